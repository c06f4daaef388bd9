// dreamshot runs create | list | show | compare | tag | note | end | start | aggregate
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/run_format.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

constexpr int kMaxPageSize = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Parses repeated KEY=VALUE words into a map; a key given twice is an error.
absl::Status ParsePairs(const std::vector<std::string>& words, const std::string& what,
                        std::map<std::string, std::string>* out) {
  for (const std::string& word : words) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = ParseKeyValue(word, what);
    if (!kv.ok()) return kv.status();
    if (!out->emplace(kv->first, kv->second).second) {
      return UsageError(absl::StrCat(what, " '", kv->first, "' is given twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> ExperimentIds(Context& ctx) {
  std::vector<int64_t> ids;
  for (const std::string& e : ctx.args.GetAll("experiment")) {
    absl::StatusOr<v1::Experiment> experiment = ResolveExperiment(ctx.client, e);
    if (!experiment.ok()) return experiment.status();
    ids.push_back(experiment->id());
  }
  return ids;
}

absl::Status PrintRunOr(Context& ctx, const v1::Run& run, const std::string& text) {
  if (ctx.global.json) return PrintJson(run, ctx.out);
  ctx.out << text << "\n";
  return absl::OkStatus();
}

absl::Status Create(Context& ctx) {
  v1::CreateRunRequest request;
  std::map<std::string, std::string> params, tags;
  absl::Status status = ParsePairs(ctx.args.GetAll("param"), "--param", &params);
  if (status.ok()) status = ParsePairs(ctx.args.GetAll("tag"), "--tag", &tags);
  if (!status.ok()) return status;
  for (const auto& [key, value] : params) {
    v1::Param* p = request.add_params();
    p->set_key(key);
    p->set_value(value);
  }
  request.mutable_tags()->insert(tags.begin(), tags.end());
  if (auto parent = ctx.args.Get("parent")) {
    absl::StatusOr<int64_t> id = ParseId(*parent, "--parent run id");
    if (!id.ok()) return id.status();
    request.set_parent_run_id(*id);
  }
  request.set_name(ctx.args.GetOr("name", ""));
  request.set_notes(ctx.args.GetOr("notes", ""));
  if (ctx.args.Has("queued")) request.set_status(v1::QUEUED);

  const std::string experiment = *ctx.args.Get("experiment");
  int64_t numeric = 0;
  if (absl::SimpleAtoi(experiment, &numeric)) {
    absl::StatusOr<v1::Experiment> e = ResolveExperiment(ctx.client, experiment);
    if (!e.ok()) return e.status();
    request.set_experiment_id(e->id());
  } else {
    request.set_experiment_name(experiment);
  }
  v1::Run run;
  status = ctx.client.Call(&Client::Stub::CreateRun, request, &run);
  if (!status.ok()) return status;
  return PrintRunOr(ctx, run, absl::StrCat(run.id()));
}

absl::Status List(Context& ctx) {
  if (ctx.args.Has("all") && ctx.args.Has("limit")) return UsageError("give --limit or --all, not both");
  int64_t limit = 0;  // 0: one page of the server's default size
  if (auto text = ctx.args.Get("limit")) {
    absl::StatusOr<int64_t> n = ParseId(*text, "--limit");
    if (!n.ok()) return n.status();
    limit = *n;
  }
  absl::StatusOr<std::vector<int64_t>> experiment_ids = ExperimentIds(ctx);
  if (!experiment_ids.ok()) return experiment_ids.status();

  v1::SearchRunsRequest request;
  request.mutable_experiment_ids()->Add(experiment_ids->begin(), experiment_ids->end());
  request.set_filter(ctx.args.GetOr("filter", ""));
  request.set_order_by(ctx.args.GetOr("order-by", ""));
  request.set_page_token(ctx.args.GetOr("page-token", ""));
  const bool all = ctx.args.Has("all");

  std::vector<v1::Run> runs;
  std::string next_token;
  while (true) {
    if (all) request.set_page_size(kMaxPageSize);
    if (limit > 0) request.set_page_size(static_cast<int32_t>(std::min<int64_t>(limit - runs.size(), kMaxPageSize)));
    v1::SearchRunsResponse response;
    absl::Status status = ctx.client.Call(&Client::Stub::SearchRuns, request, &response);
    if (!status.ok()) return status;
    if (ctx.global.json) {
      status = PrintJson(response, ctx.out);
      if (!status.ok()) return status;
    }
    runs.insert(runs.end(), response.runs().begin(), response.runs().end());
    next_token = response.next_page_token();
    const bool want_more = all || (limit > 0 && static_cast<int64_t>(runs.size()) < limit);
    if (next_token.empty() || !want_more) break;
    request.set_page_token(next_token);
  }
  if (ctx.global.json) return absl::OkStatus();
  const std::string filter = ctx.args.GetOr("filter", "");
  const std::string order = ctx.args.GetOr("order-by", "");
  std::vector<std::string> params = KeysMentioned(order, "params");
  std::vector<std::string> metrics = KeysMentioned(order, "metrics");
  for (const auto& k : KeysMentioned(filter, "params")) params.push_back(k);
  for (const auto& k : KeysMentioned(filter, "metrics")) metrics.push_back(k);
  ctx.out << RunsTable(runs, params, metrics, NowMs());
  if (runs.empty()) ctx.out << "(no runs match)\n";
  if (!next_token.empty()) ctx.out << "next page: --page-token " << next_token << "\n";
  return absl::OkStatus();
}

absl::Status Show(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseRunId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  v1::GetRunRequest request;
  request.set_run_id(*id);
  v1::Run run;
  absl::Status status = ctx.client.Call(&Client::Stub::GetRun, request, &run);
  if (!status.ok()) return status;
  v1::ListArtifactsRequest artifacts_request;
  artifacts_request.set_run_id(*id);
  v1::ListArtifactsResponse artifacts;
  status = ctx.client.Call(&Client::Stub::ListArtifacts, artifacts_request, &artifacts);
  if (!status.ok()) return status;
  if (ctx.global.json) {
    status = PrintJson(run, ctx.out);
    return status.ok() ? PrintJson(artifacts, ctx.out) : status;
  }
  // The experiment's name is a courtesy: its absence is no error.
  v1::GetExperimentRequest experiment_request;
  experiment_request.set_id(run.experiment_id());
  v1::Experiment experiment;
  const bool named = ctx.client.Call(&Client::Stub::GetExperiment, experiment_request, &experiment).ok();
  ctx.out << RunDetails(run, named ? experiment.name() : "", artifacts, NowMs());
  return absl::OkStatus();
}

absl::Status Compare(Context& ctx) {
  v1::CompareRunsRequest request;
  for (const std::string& word : ctx.args.positionals()) {
    absl::StatusOr<int64_t> id = ParseRunId(word);
    if (!id.ok()) return id.status();
    request.add_run_ids(*id);
  }
  v1::CompareRunsResponse response;
  absl::Status status = ctx.client.Call(&Client::Stub::CompareRuns, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  ctx.out << CompareTables(response);
  return absl::OkStatus();
}

absl::Status Tag(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseRunId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  const std::vector<std::string>& words = ctx.args.positionals();
  std::map<std::string, std::string> set;
  absl::Status status = ParsePairs(std::vector<std::string>(words.begin() + 1, words.end()), "tag", &set);
  if (!status.ok()) return status;
  const std::vector<std::string> remove = ctx.args.GetAll("remove");
  if (set.empty() && remove.empty()) return UsageError("'runs tag' needs KEY=VALUE tags or --remove KEY");
  v1::SetTagsRequest request;
  request.set_run_id(*id);
  request.mutable_set()->insert(set.begin(), set.end());
  for (const std::string& key : remove) request.add_remove(key);
  v1::Run run;
  status = ctx.client.Call(&Client::Stub::SetTags, request, &run);
  if (!status.ok()) return status;
  const std::map<std::string, std::string> tags(run.tags().begin(), run.tags().end());
  return PrintRunOr(ctx, run,
                    absl::StrCat("run ", run.id(), " tags: ",
                                 tags.empty() ? "(none)" : absl::StrJoin(tags, " ", absl::PairFormatter("="))));
}

absl::Status Update(Context& ctx, v1::UpdateRunRequest request) {
  v1::Run run;
  absl::Status status = ctx.client.Call(&Client::Stub::UpdateRun, request, &run);
  if (!status.ok()) return status;
  std::string text = absl::StrCat("run ", run.id(), ": ", StatusName(run.status()));
  if (run.end_ms() > 0) absl::StrAppend(&text, " after ", RunDuration(run, NowMs()));
  if (request.set_notes()) text = absl::StrCat("run ", run.id(), ": notes set");
  return PrintRunOr(ctx, run, text);
}

absl::Status Note(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseRunId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  const std::vector<std::string>& words = ctx.args.positionals();
  v1::UpdateRunRequest request;
  request.set_run_id(*id);
  request.set_set_notes(true);
  request.set_notes(absl::StrJoin(words.begin() + 1, words.end(), " "));
  return Update(ctx, request);
}

absl::Status End(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseRunId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  absl::StatusOr<v1::RunStatus> status = ParseRunStatus(ctx.args.GetOr("status", "finished"), "--status");
  if (!status.ok()) return status.status();
  if (*status == v1::QUEUED || *status == v1::RUNNING) {
    return UsageError("--status must be finished, failed or cancelled (use 'runs start' to start a run)");
  }
  v1::UpdateRunRequest request;
  request.set_run_id(*id);
  request.set_status(*status);
  return Update(ctx, request);
}

absl::Status Start(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseRunId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  v1::UpdateRunRequest request;
  request.set_run_id(*id);
  request.set_status(v1::RUNNING);
  return Update(ctx, request);
}

absl::Status Aggregate(Context& ctx) {
  v1::AggregateRunsRequest request;
  if (auto text = ctx.args.Get("confidence")) {
    absl::StatusOr<double> c = ParseDouble(*text, "--confidence");
    if (!c.ok()) return c.status();
    if (!(*c > 0 && *c < 1)) return UsageError(absl::StrCat("--confidence must be in (0, 1), got ", *text));
    request.set_confidence(*c);
  }
  absl::StatusOr<std::vector<int64_t>> experiment_ids = ExperimentIds(ctx);
  if (!experiment_ids.ok()) return experiment_ids.status();
  request.mutable_experiment_ids()->Add(experiment_ids->begin(), experiment_ids->end());
  request.set_filter(ctx.args.GetOr("filter", ""));
  for (const std::string& p : ctx.args.GetAll("ignore-param")) request.add_ignore_params(p);
  for (const std::string& m : ctx.args.GetAll("metric")) request.add_metrics(m);
  v1::AggregateRunsResponse response;
  absl::Status status = ctx.client.Call(&Client::Stub::AggregateRuns, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  ctx.out << AggregateTable(response);
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> RunsCommands() {
  const PositionalSpec kRun{"RUN"};
  const FlagSpec experiments{"experiment", "NAME_OR_ID", "only runs of this experiment", true};
  const FlagSpec filter{"filter", "EXPR",
                        "e.g. \"params.lora_rank = 8 and (metrics.clip_t > 0.3 or tags.keep = 'yes')\""};
  std::vector<Command> c;
  c.push_back({{"runs", "create", "Create a run; prints its id (with --json, the Run).",
                "The run starts RUNNING unless --queued is given.",
                {},
                {{"experiment", "NAME_OR_ID", "the run's experiment", false, true},
                 {"name", "NAME", "a display name"},
                 {"param", "KEY=VALUE", "a param of the run", true},
                 {"tag", "KEY=VALUE", "a tag of the run", true},
                 {"parent", "RUN", "the parent run (e.g. the sweep)"},
                 {"queued", "", "create it QUEUED (start it later with 'runs start')"},
                 {"notes", "TEXT", "free-form notes"}}},
               Create});
  c.push_back({{"runs", "list", "Search runs: a table of runs with their main params and latest metrics.",
                "Without --limit/--all one page (100 runs) is shown, newest first; when more match, the "
                "last line says how to get the next page.",
                {},
                {experiments,
                 filter,
                 {"order-by", "EXPR", "e.g. \"metrics.clip_t desc\" (default: newest first)"},
                 {"limit", "N", "show at most N runs"},
                 {"page-token", "TOKEN", "continue a previous listing"},
                 {"all", "", "fetch every page"}}},
               List});
  c.push_back({{"runs", "show", "Show a run: fields, tags, params, metric summaries, artifacts.",
                "With --json prints two documents: the Run, then its ListArtifactsResponse.",
                {kRun},
                {}},
               Show});
  c.push_back({{"runs", "compare", "Compare runs: params side by side, then metrics.", "",
                {kRun, kRun, {"RUN", false, true}}, {}},
               Compare});
  c.push_back({{"runs", "tag", "Set tags of a run (KEY=VALUE) and remove others.", "",
                {kRun, {"KEY=VALUE", false, true}},
                {{"remove", "KEY", "remove this tag", true}}},
               Tag});
  c.push_back({{"runs", "note", "Replace a run's notes with TEXT (the remaining words).", "",
                {kRun, {"TEXT", true, true}}, {}},
               Note});
  c.push_back({{"runs", "end", "End a run (finished by default).", "",
                {kRun},
                {{"status", "STATUS", "finished, failed or cancelled (default finished)"}}},
               End});
  c.push_back({{"runs", "start", "Start a queued run (QUEUED -> RUNNING).", "", {kRun}, {}}, Start});
  c.push_back({{"runs", "aggregate", "Aggregate runs that differ only in their seed: mean and confidence interval.",
                "Runs whose params are equal except the ignored ones (default: seed and *.seed) form a "
                "group; each metric's latest value is averaged over the group.",
                {},
                {experiments,
                 filter,
                 {"ignore-param", "KEY", "a param that does not define a group", true},
                 {"metric", "KEY", "only this metric (default: all)", true},
                 {"confidence", "LEVEL", "confidence level of the interval (default 0.95)"}}},
               Aggregate});
  return c;
}

}  // namespace dreamshot::cli

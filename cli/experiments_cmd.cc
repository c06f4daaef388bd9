// dreamshot experiments list | create | show
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

std::string JoinTags(const google::protobuf::Map<std::string, std::string>& tags) {
  const std::map<std::string, std::string> sorted(tags.begin(), tags.end());
  return absl::StrJoin(sorted, " ", absl::PairFormatter("="));
}

absl::Status List(Context& ctx) {
  v1::ListExperimentsResponse response;
  absl::Status status =
      ctx.client.Call(&Client::Stub::ListExperiments, v1::ListExperimentsRequest(), &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  Table table({"ID", "NAME", "RUNS", "CREATED", "DESCRIPTION", "TAGS"});
  for (const v1::Experiment& e : response.experiments()) {
    table.AddRow({absl::StrCat(e.id()), e.name(), absl::StrCat(e.run_count()), FormatTime(e.created_ms()),
                  e.description(), JoinTags(e.tags())});
  }
  ctx.out << table.Render();
  return absl::OkStatus();
}

absl::Status Create(Context& ctx) {
  v1::CreateExperimentRequest request;
  request.set_name(ctx.args.Positional(0));
  request.set_description(ctx.args.GetOr("description", ""));
  for (const std::string& tag : ctx.args.GetAll("tag")) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = ParseKeyValue(tag, "--tag");
    if (!kv.ok()) return kv.status();
    (*request.mutable_tags())[kv->first] = kv->second;
  }
  v1::Experiment experiment;
  absl::Status status = ctx.client.Call(&Client::Stub::CreateExperiment, request, &experiment);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(experiment, ctx.out);
  ctx.out << experiment.id() << "\n";
  return absl::OkStatus();
}

absl::Status Show(Context& ctx) {
  absl::StatusOr<v1::Experiment> e = ResolveExperiment(ctx.client, ctx.args.Positional(0));
  if (!e.ok()) return e.status();
  if (ctx.global.json) return PrintJson(*e, ctx.out);
  Table fields({"FIELD", "VALUE"});
  fields.SetMaxWidth(1, 0);
  fields.SetAlign(1, Table::Align::kLeft);
  fields.AddRow({"id", absl::StrCat(e->id())});
  fields.AddRow({"name", e->name()});
  fields.AddRow({"description", e->description().empty() ? "-" : e->description()});
  fields.AddRow({"created", FormatTime(e->created_ms())});
  fields.AddRow({"runs", absl::StrCat(e->run_count())});
  const std::map<std::string, std::string> tags(e->tags().begin(), e->tags().end());
  for (const auto& [key, value] : tags) fields.AddRow({absl::StrCat("tag ", key), value});
  ctx.out << fields.Render();
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> ExperimentsCommands() {
  std::vector<Command> commands;
  commands.push_back({{"experiments", "list", "List experiments with their run counts.", "", {}, {}}, List});
  commands.push_back({{"experiments",
                       "create",
                       "Create an experiment; prints its id (with --json, the Experiment).",
                       "Experiment names are unique: creating an existing name fails with ALREADY_EXISTS "
                       "(exit 4).",
                       {{"NAME"}},
                       {{"description", "TEXT", "what the experiment is about"},
                        {"tag", "KEY=VALUE", "a tag on the experiment", true}}},
                      Create});
  commands.push_back({{"experiments",
                       "show",
                       "Show one experiment, by name or id.",
                       "",
                       {{"NAME_OR_ID"}},
                       {}},
                      Show});
  return commands;
}

}  // namespace dreamshot::cli

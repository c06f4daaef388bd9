// dreamshot survey create | open | close | status | list | results | export:
// the researcher's side of a pairwise A/B survey.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

// The page's address as the server reports it (participant_url is empty
// when dreamshotd serves no participant pages).
std::string ParticipantPage(const v1::Survey& s) {
  const std::string& url = s.participant_url();
  if (url.empty()) return "survey pages are off (start dreamshotd with --survey_listen HOST:PORT)";
  if (url.rfind("http://0.0.0.0:", 0) == 0 || url.rfind("http://[::]:", 0) == 0) {
    return absl::StrCat(url, "  (dreamshotd listens on every interface: share it with this machine's name)");
  }
  return url;
}

void PrintSurvey(const v1::Survey& s, std::ostream& out) {
  out << "survey " << s.id() << "  " << s.name() << "  (" << s.status() << ", run " << s.run_id() << ")\n"
      << "  participant page: " << ParticipantPage(s) << "\n";
}

constexpr int kDefaultPairsPerParticipant = 36;  // SurveyConfig's default, for the note below

absl::Status Create(Context& ctx) {
  v1::CreateSurveyRequest request;
  request.set_name(ctx.args.Positional(0));
  request.set_experiment(ctx.args.GetOr("experiment", ""));
  for (const std::string& run : ctx.args.GetAll("pairs-run")) {
    absl::StatusOr<int64_t> id = ParseRunId(run);
    if (!id.ok()) return id.status();
    request.add_pair_runs(*id);
  }
  for (const std::string& pair : ctx.args.GetAll("pair")) {
    absl::StatusOr<int64_t> id = ParseInt64(pair, "--pair");
    if (!id.ok()) return id.status();
    request.add_pair_ids(*id);
  }
  if (request.pair_runs_size() == 0 && request.pair_ids_size() == 0) {
    return UsageError("give the pairs: --pairs-run RUN (every pair of a `dreamshot pairs` run) and/or --pair ID");
  }
  v1::SurveyConfig* config = request.mutable_config();
  config->set_title(ctx.args.GetOr("title", ""));
  if (auto file = ctx.args.Get("consent-file")) {
    std::ifstream in(*file);
    if (!in) return UsageError(absl::StrCat("cannot read --consent-file ", *file));
    std::stringstream text;
    text << in.rdbuf();
    config->set_consent_text(text.str());
  }
  if (auto n = ctx.args.Get("pairs-per-participant")) {
    absl::StatusOr<int64_t> value = ParseInt64(*n, "--pairs-per-participant");
    if (!value.ok()) return value.status();
    config->set_pairs_per_participant(static_cast<int32_t>(*value));
  }
  if (auto n = ctx.args.Get("attention-checks")) {
    absl::StatusOr<int64_t> value = ParseInt64(*n, "--attention-checks");
    if (!value.ok()) return value.status();
    config->set_attention_checks(static_cast<int32_t>(*value));
  }
  if (auto n = ctx.args.Get("seed")) {
    absl::StatusOr<int64_t> value = ParseInt64(*n, "--seed");
    if (!value.ok()) return value.status();
    config->set_seed(static_cast<uint64_t>(*value));
  }
  config->set_attention_style(ctx.args.GetOr("attention-style", ""));
  for (const std::string& question : ctx.args.GetAll("question")) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = ParseKeyValue(question, "--question");
    if (!kv.ok()) return kv.status();
    if (kv->second.empty()) return UsageError(absl::StrCat("--question ", kv->first, "= needs a text after '='"));
    v1::SurveyQuestion* q = config->add_questions();
    q->set_key(kv->first);
    q->set_text(kv->second);
  }
  config->set_option_a(ctx.args.GetOr("option-a", ""));
  config->set_option_b(ctx.args.GetOr("option-b", ""));
  config->set_option_neither(ctx.args.GetOr("option-neither", ""));
  request.set_allow_fewer_pairs(ctx.args.Has("allow-fewer-pairs"));
  v1::Survey response;
  absl::Status status =
      ctx.client.Call(ctx.client.survey(), &v1::SurveyService::Stub::CreateSurvey, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  PrintSurvey(response, ctx.out);
  const int asked = config->has_pairs_per_participant() ? config->pairs_per_participant() : kDefaultPairsPerParticipant;
  const int used = response.config().pairs_per_participant();
  ctx.out << "  each participant judges " << used << " pair" << (used == 1 ? "" : "s");
  if (used < asked) ctx.out << " (the whole pool; " << asked << " asked)";
  if (response.config().attention_checks() > 0) {
    ctx.out << " and " << response.config().attention_checks() << " attention check"
            << (response.config().attention_checks() == 1 ? "" : "s");
  }
  ctx.out << "\n  questions:";
  for (const v1::SurveyQuestion& q : response.config().questions()) ctx.out << " " << q.key();
  ctx.out << "\n  a draft: open it with `dreamshot survey open " << response.name() << "`\n";
  return absl::OkStatus();
}

absl::Status SetOpen(Context& ctx, bool open) {
  v1::SurveyRef request;
  request.set_survey(ctx.args.Positional(0));
  v1::Survey response;
  absl::Status status = ctx.client.Call(
      ctx.client.survey(), open ? &v1::SurveyService::Stub::OpenSurvey : &v1::SurveyService::Stub::CloseSurvey, request,
      &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  PrintSurvey(response, ctx.out);
  return absl::OkStatus();
}

absl::Status Status(Context& ctx) {
  v1::SurveyRef request;
  request.set_survey(ctx.args.Positional(0));
  v1::SurveyStatus response;
  absl::Status status =
      ctx.client.Call(ctx.client.survey(), &v1::SurveyService::Stub::GetSurveyStatus, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  PrintSurvey(response.survey(), ctx.out);
  std::map<std::string, int64_t> types(response.items_by_shot_type().begin(), response.items_by_shot_type().end());
  std::string by_type;
  for (const auto& [type, n] : types) by_type += absl::StrCat(by_type.empty() ? "" : ", ", type, " ", n);
  ctx.out << "  pairs: " << response.items() << " (" << by_type << "), attention checks: " << response.attention_items()
          << "\n"
          << "  participants: " << response.participants() << " joined, " << response.consented() << " consented, "
          << response.finished() << " finished; " << response.answered_pairs() << " pairs answered\n"
          << "  coverage: each pair assigned " << response.min_shown() << " to " << response.max_shown() << " times\n";
  return absl::OkStatus();
}

absl::Status List(Context& ctx) {
  v1::ListSurveysResponse response;
  absl::Status status =
      ctx.client.Call(ctx.client.survey(), &v1::SurveyService::Stub::ListSurveys, v1::ListSurveysRequest(), &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  Table table({"ID", "NAME", "STATUS", "RUN", "PAIRS/PERSON", "PAGE"});
  for (const v1::Survey& s : response.surveys()) {
    table.AddRow({absl::StrCat(s.id()), s.name(), s.status(), absl::StrCat(s.run_id()),
                  absl::StrCat(s.config().pairs_per_participant()),
                  s.participant_url().empty() ? s.url_path() : s.participant_url()});
  }
  ctx.out << table.Render();
  return absl::OkStatus();
}

// Writes `text` to --out FILE (saying so on stderr), or to stdout.
absl::Status WriteOutput(Context& ctx, const std::string& text, const std::string& what) {
  const std::string out = ctx.args.GetOr("out", "");
  if (out.empty()) {
    ctx.out << text;
    return absl::OkStatus();
  }
  std::ofstream file(out, std::ios::binary);
  file << text;
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", out));
  std::cerr << "wrote " << what << " to " << out << "\n";
  return absl::OkStatus();
}

// GetSurveyResults with the results flags; `format` "" asks for the numbers only.
absl::StatusOr<v1::SurveyResults> FetchResults(Context& ctx, const std::string& format) {
  v1::SurveyResultsRequest request;
  request.set_survey(ctx.args.Positional(0));
  request.set_format(format);
  if (auto n = ctx.args.Get("resamples")) {
    absl::StatusOr<int64_t> value = ParseInt64(*n, "--resamples");
    if (!value.ok()) return value.status();
    if (*value < 1 || *value > 100000) return UsageError("--resamples must lie in [1, 100000]");
    request.set_resamples(static_cast<int32_t>(*value));
  }
  if (auto n = ctx.args.Get("seed")) {
    absl::StatusOr<int64_t> value = ParseInt64(*n, "--seed");
    if (!value.ok()) return value.status();
    request.set_seed(static_cast<uint64_t>(*value));
  }
  if (auto n = ctx.args.Get("level")) {
    absl::StatusOr<double> value = ParseDouble(*n, "--level");
    if (!value.ok()) return value.status();
    if (!(*value > 0.0 && *value < 1.0)) return UsageError("--level must lie in (0, 1), e.g. 0.95");
    request.set_level(*value);
  }
  if (auto n = ctx.args.Get("max-attention-failures")) {
    absl::StatusOr<int64_t> value = ParseInt64(*n, "--max-attention-failures");
    if (!value.ok()) return value.status();
    if (*value < 0) return UsageError("--max-attention-failures must not be negative");
    request.set_max_attention_failures(static_cast<int32_t>(*value));
  }
  request.set_finished_only(ctx.args.Has("finished-only"));
  v1::SurveyResults response;
  absl::Status status =
      ctx.client.Call(ctx.client.survey(), &v1::SurveyService::Stub::GetSurveyResults, request, &response);
  if (!status.ok()) return status;
  return response;
}

absl::Status Results(Context& ctx) {
  const std::string format = ctx.args.GetOr("format", "markdown");
  if (format != "markdown" && format != "html") return UsageError("--format is markdown or html");
  absl::StatusOr<v1::SurveyResults> results = FetchResults(ctx, ctx.global.json ? "" : format);
  if (!results.ok()) return results.status();
  if (ctx.global.json) return PrintJson(*results, ctx.out);
  return WriteOutput(ctx, results->rendered(), absl::StrCat("the results (", format, ")"));
}

absl::Status Export(Context& ctx) {
  const std::string format = ctx.args.GetOr("format", "csv");
  if (format == "markdown" || format == "html") {
    absl::StatusOr<v1::SurveyResults> results = FetchResults(ctx, format);
    if (!results.ok()) return results.status();
    return WriteOutput(ctx, results->rendered(), absl::StrCat("the results table (", format, ")"));
  }
  if (format != "csv") return UsageError("--format is csv (raw answers), markdown or html (the results table)");
  v1::ExportSurveyRequest request;
  request.set_survey(ctx.args.Positional(0));
  v1::ExportSurveyResponse response;
  absl::Status status =
      ctx.client.Call(ctx.client.survey(), &v1::SurveyService::Stub::ExportSurvey, request, &response);
  if (!status.ok()) return status;
  return WriteOutput(ctx, response.csv(), absl::StrCat(response.answers(), " answers"));
}

std::vector<FlagSpec> ResultsFlags(bool results) {
  std::vector<FlagSpec> flags = {
      {"format", "FORMAT",
       results ? "markdown (default) or html" : "csv (raw answers, default), markdown or html (the results table)"},
      {"out", "FILE", "write to FILE instead of stdout"},
      {"resamples", "N", "bootstrap replicates (default 2000)"},
      {"seed", "N", "seed of the bootstrap (default 1)"},
      {"level", "X", "level of every interval (default 0.95)"},
      {"max-attention-failures", "N", "leave out participants failing more attention checks (default 0)"},
      {"finished-only", "", "leave out participants who did not answer every pair"}};
  return flags;
}

}  // namespace

std::vector<Command> SurveyCommands() {
  const PositionalSpec survey{"SURVEY"};
  return {
      {{"survey",
        "create",
        "Create a pairwise A/B survey (a draft) from stored image pairs.",
        "Each participant sees --pairs-per-participant pairs (36), balanced over shot types, sides and order "
        "randomised per participant, with the DreamShot study's three questions (preference, shot type, prompt) "
        "answered A, B or neither. NAME becomes the page's address: /s/NAME on dreamshotd's --survey_listen; it "
        "holds letters, digits, '-', '_' and '.', and not digits only (a number names a survey by id). "
        "--pairs-per-participant larger than the pool is refused unless --allow-fewer-pairs is given; left out, "
        "each participant judges min(36, pool). The number used is stored and shown by `survey list`. "
        "--question replaces the three default questions (repeat it, in the order shown).",
        {{"NAME"}},
        {{"pairs-run", "RUN", "every A/B pair of this run (from `dreamshot pairs`)", true},
         {"pair", "ID", "one image pair", true},
         {"pairs-per-participant", "N", "pairs each participant judges (default 36, or the whole pool if smaller)"},
         {"allow-fewer-pairs", "", "if the pool holds fewer than N pairs, give each participant the whole pool"},
         {"question", "KEY=TEXT",
          "a question (KEY: letters, digits, '_'; repeat for each; replaces the default three)", true},
         {"option-a", "LABEL", "the answer naming picture A (default A)"},
         {"option-b", "LABEL", "the answer naming picture B (default B)"},
         {"option-neither", "LABEL", "the third answer (default \"Neither / the same\")"},
         {"attention-checks", "N", "attention-check pairs mixed into each assignment (default 0)"},
         {"attention-style", "STYLE",
          "identical (one picture twice: 'neither' is right; default), broken (a picture against a scrambled, "
          "inverted copy: the intact one is right) or both"},
         {"seed", "N", "seed of the assignments (default 0)"},
         {"title", "TEXT", "the page's title"},
         {"consent-file", "FILE", "consent text shown before the first pair"},
         {"experiment", "NAME", "experiment of the survey's run (default surveys)"}}},
       Create},
      {{"survey", "open", "Open a survey to participants.", "", {survey}, {}},
       [](Context& ctx) { return SetOpen(ctx, true); }},
      {{"survey", "close", "Close a survey: its page and tokens stop working; answers stay.", "", {survey}, {}},
       [](Context& ctx) { return SetOpen(ctx, false); }},
      {{"survey", "status", "Participants, answers and pair coverage of a survey.", "", {survey}, {}}, Status},
      {{"survey", "list", "List surveys.", "", {}, {}}, List},
      {{"survey",
        "results",
        "A survey's results table: each system's share of the answers per question and shot type.",
        "Shares come with a percentile bootstrap interval that resamples participants (their answers are "
        "correlated) and a Wilson interval over answers; p-values of an exact two-sided sign test without "
        "\"neither\"; Fleiss' kappa; Bradley-Terry strengths with more than two systems. Participants failing "
        "attention checks are left out and listed. Prints Markdown (or HTML; --json for every number).",
        {survey},
        ResultsFlags(true)},
       Results},
      {{"survey",
        "export",
        "Print or write a survey's raw answers as CSV (one row per answer), or its results table.",
        "",
        {survey},
        ResultsFlags(false)},
       Export},
  };
}

}  // namespace dreamshot::cli

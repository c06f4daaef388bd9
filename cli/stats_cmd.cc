// dreamshot stats paired: the evaluator's paired statistics for any paired
// scores in a CSV, computed locally (no server involved).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/paired_csv.h"
#include "cli/table.h"
#include "core/paired_statistics.h"

namespace dreamshot::cli {
namespace {

absl::StatusOr<core::PairedOptions> ParseOptions(const Args& args) {
  core::PairedOptions options;
  if (auto text = args.Get("seed")) {
    absl::StatusOr<int64_t> seed = ParseInt64(*text, "--seed");
    if (!seed.ok()) return seed.status();
    if (*seed < 0) return UsageError(absl::StrCat("--seed must be >= 0, got ", *seed));
    options.seed = static_cast<uint64_t>(*seed);
  }
  if (auto text = args.Get("resamples")) {
    absl::StatusOr<int64_t> resamples = ParseInt64(*text, "--resamples");
    if (!resamples.ok()) return resamples.status();
    if (*resamples < 1 || *resamples > core::kMaxBootstrapResamples) {
      return UsageError(
          absl::StrCat("--resamples must be in [1, ", core::kMaxBootstrapResamples, "], got ", *resamples));
    }
    options.resamples = static_cast<int>(*resamples);
  }
  if (auto text = args.Get("confidence")) {
    absl::StatusOr<double> confidence = ParseDouble(*text, "--confidence");
    if (!confidence.ok()) return confidence.status();
    if (!(*confidence > 0.0 && *confidence < 1.0)) {
      return UsageError(absl::StrCat("--confidence must be in the open interval (0, 1), got ", *text));
    }
    options.confidence = *confidence;
  }
  if (auto text = args.Get("wilcoxon-method")) {
    absl::StatusOr<core::WilcoxonMethod> method = core::ParseWilcoxonMethod(*text);
    if (!method.ok()) return UsageError(absl::StrCat("--wilcoxon-method: ", method.status().message()));
    options.wilcoxon.method = *method;
  }
  if (auto text = args.Get("alternative")) {
    absl::StatusOr<core::Alternative> alternative = core::ParseAlternative(*text);
    if (!alternative.ok()) return UsageError(absl::StrCat("--alternative: ", alternative.status().message()));
    options.wilcoxon.alternative = *alternative;
  }
  options.wilcoxon.correction = args.Has("correction");
  return options;
}

std::string Percent(double confidence) { return absl::StrFormat("%g%%", 100.0 * confidence); }

// "exact", "normal approximation, continuity-corrected" ... with what was
// dropped or tied.
std::string WilcoxonNote(const core::WilcoxonResult& w, bool correction) {
  std::string note = w.method == core::WilcoxonMethod::kExact ? "exact"
                     : correction                             ? "normal approximation, continuity-corrected"
                                                              : "normal approximation";
  if (w.zeros > 0) {
    absl::StrAppend(&note, "; ", w.zeros, w.zeros == 1 ? " zero difference" : " zero differences", " dropped");
  }
  if (w.ties) absl::StrAppend(&note, "; tied ranks");
  return note;
}

void PrintText(const std::string& path, const core::PairedComparison& c, const core::PairedOptions& o,
               std::ostream& out) {
  const std::string sided = o.wilcoxon.alternative == core::Alternative::kTwoSided
                                ? ""
                                : absl::StrCat(" (", core::AlternativeName(o.wilcoxon.alternative), ")");
  auto line = [&](absl::string_view name, const std::string& value) {
    out << absl::StrFormat("  %-21s %s\n", name, value);
  };
  out << path << ": " << c.n << " pairs, difference = a - b\n";
  line("mean a", FormatNumber(c.mean_a));
  line("mean b", FormatNumber(c.mean_b));
  line("mean difference", absl::StrCat(FormatNumber(c.mean_difference), "  ", Percent(o.confidence), " CI [",
                                       FormatNumber(c.bootstrap.low), ", ", FormatNumber(c.bootstrap.high),
                                       "] (paired bootstrap, ", o.resamples, " resamples, seed ", o.seed, ")"));
  line("paired t-test", absl::StrCat("t = ", FormatNumber(c.t_test.t), ", df = ", FormatNumber(c.t_test.df),
                                     ", p = ", FormatNumber(c.t_test.p), sided, "  (t ", Percent(o.confidence), " CI [",
                                     FormatNumber(c.t_test.ci_low), ", ", FormatNumber(c.t_test.ci_high), "])"));
  line("Wilcoxon signed-rank",
       absl::StrCat("W = ", FormatNumber(c.wilcoxon.statistic), ", p = ", FormatNumber(c.wilcoxon.p), sided, "  (",
                    WilcoxonNote(c.wilcoxon, o.wilcoxon.correction), "; R+ = ", FormatNumber(c.wilcoxon.r_plus),
                    ", R- = ", FormatNumber(c.wilcoxon.r_minus), ")"));
  line("Cohen's d_z", FormatNumber(c.cohens_dz));
}

void PrintJsonResult(const std::string& path, const core::PairedComparison& c, const core::PairedOptions& o,
                     std::ostream& out) {
  nlohmann::json j;
  j["file"] = path;
  j["n"] = c.n;
  j["difference"] = "a - b";
  j["mean_a"] = c.mean_a;
  j["mean_b"] = c.mean_b;
  j["mean_difference"] = c.mean_difference;
  j["sd_difference"] = c.sd_difference;
  j["confidence"] = o.confidence;
  j["alternative"] = std::string(core::AlternativeName(o.wilcoxon.alternative));
  j["bootstrap"] = {{"low", c.bootstrap.low},
                    {"high", c.bootstrap.high},
                    {"resamples", o.resamples},
                    {"seed", o.seed},
                    {"method", "percentile"}};
  j["t_test"] = {{"t", c.t_test.t},
                 {"df", c.t_test.df},
                 {"p", c.t_test.p},
                 {"ci_low", c.t_test.ci_low},
                 {"ci_high", c.t_test.ci_high}};
  // NaN and infinities (constant differences) come out as null.
  j["wilcoxon"] = {{"statistic", c.wilcoxon.statistic},
                   {"p", c.wilcoxon.p},
                   {"r_plus", c.wilcoxon.r_plus},
                   {"r_minus", c.wilcoxon.r_minus},
                   {"z", c.wilcoxon.z},
                   {"method", std::string(core::WilcoxonMethodName(c.wilcoxon.method))},
                   {"requested_method", std::string(core::WilcoxonMethodName(o.wilcoxon.method))},
                   {"correction", o.wilcoxon.correction},
                   {"zeros", c.wilcoxon.zeros},
                   {"ties", c.wilcoxon.ties}};
  j["cohens_dz"] = c.cohens_dz;
  out << j.dump() << "\n";
}

absl::Status Paired(Context& ctx) {
  absl::StatusOr<core::PairedOptions> options = ParseOptions(ctx.args);
  if (!options.ok()) return options.status();
  const std::string path = ctx.args.Positional(0);
  const std::string source = path == "-" ? "<stdin>" : path;
  absl::StatusOr<PairedScores> scores = ReadPairedScores(path);
  if (!scores.ok()) return scores.status();
  absl::StatusOr<core::PairedComparison> comparison = core::ComparePaired(scores->a, scores->b, *options);
  if (!comparison.ok()) {
    return absl::Status(comparison.status().code(), absl::StrCat(source, ": ", comparison.status().message()));
  }
  if (ctx.global.json) {
    PrintJsonResult(source, *comparison, *options, ctx.out);
  } else {
    PrintText(source, *comparison, *options, ctx.out);
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> StatsCommands() {
  return {
      {{"stats",
        "paired",
        "Paired statistics of two systems' scores on the same items (computed locally).",
        "FILE is a CSV with a header naming the columns id, a and b (other columns are ignored), one row per item "
        "('-' reads standard input). Prints n, the means of a and b, the mean difference a - b with a percentile "
        "paired-bootstrap interval, the paired t-test, the Wilcoxon signed-rank test (as scipy.stats.wilcoxon "
        ">= 1.15 by default: exact for up to 50 pairs without ties or zeros, exact given the ties for up to 13, "
        "otherwise the normal approximation with the tie correction) and Cohen's d_z. See docs/evaluation.md.",
        {{"FILE"}},
        {{"seed", "N", "seed of the bootstrap (default 0)"},
         {"resamples", "N", "bootstrap resamples (default 10000)"},
         {"confidence", "C", "level of the intervals (default 0.95)"},
         {"wilcoxon-method", "M", "auto (default), exact or asymptotic"},
         {"correction", "", "continuity correction of Wilcoxon's normal approximation (R's default; scipy's is off)"},
         {"alternative", "H", "two-sided (default), less or greater: mean / centre of a - b below or above 0"}}},
       Paired},
  };
}

}  // namespace dreamshot::cli

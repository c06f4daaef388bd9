#include "core/paired_statistics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/statistics.h"

namespace dreamshot::core {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::Status CheckFinite(absl::Span<const double> values, absl::string_view what, absl::string_view name) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", name, "[", i, "] is not finite (", values[i], ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckConfidence(double confidence, absl::string_view what) {
  if (confidence > 0.0 && confidence < 1.0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": confidence must be in the open interval (0, 1), got ", confidence));
}

// p-value of a statistic with lower-tail probability `lower` (P(X <= x)) and
// upper-tail probability `upper` (P(X >= x)), each computed directly so that
// small tails keep their relative accuracy.
double TailPValue(double lower, double upper, Alternative alternative) {
  switch (alternative) {
    case Alternative::kLess:
      return lower;
    case Alternative::kGreater:
      return upper;
    case Alternative::kTwoSided:
      break;
  }
  return std::min(1.0, 2.0 * std::min(lower, upper));
}

// The non-zero |d| ranked: each difference's doubled average rank (an
// integer: tied ranks average to half-integers) and the tie-group sizes.
struct SignedRanks {
  std::vector<int64_t> doubled_ranks;  // of the non-zero differences, any order
  int64_t doubled_r_plus = 0;
  int64_t doubled_r_minus = 0;
  std::vector<int64_t> tie_groups;  // sizes > 1 only
};

SignedRanks RankNonZero(absl::Span<const double> d) {
  std::vector<double> nonzero;
  for (double v : d) {
    if (v != 0.0) nonzero.push_back(v);
  }
  std::vector<size_t> order(nonzero.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return std::fabs(nonzero[x]) < std::fabs(nonzero[y]); });
  SignedRanks ranks;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && std::fabs(nonzero[order[end]]) == std::fabs(nonzero[order[begin]])) ++end;
    const int64_t size = static_cast<int64_t>(end - begin);
    // Ranks begin+1 .. end average to (begin + 1 + end) / 2.
    const int64_t doubled = static_cast<int64_t>(begin + 1 + end);
    if (size > 1) ranks.tie_groups.push_back(size);
    for (size_t k = begin; k < end; ++k) {
      ranks.doubled_ranks.push_back(doubled);
      (nonzero[order[k]] > 0.0 ? ranks.doubled_r_plus : ranks.doubled_r_minus) += doubled;
    }
    begin = end;
  }
  return ranks;
}

// P(2R+ <= observed) and P(2R+ >= observed) when each rank's sign is + or −
// with probability 1/2, independently (the null distribution given the
// ranks). Convolution over the doubled ranks: f[s] = P(2R+ = s). Halving at
// every step keeps each f[s] a multiple of 2^-k below 1, so with at most 52
// ranks every value and both tail sums are exact.
std::pair<double, double> ExactTails(const std::vector<int64_t>& doubled_ranks, int64_t observed) {
  int64_t total = 0;
  for (int64_t r : doubled_ranks) total += r;
  std::vector<double> f(static_cast<size_t>(total) + 1, 0.0);
  f[0] = 1.0;
  int64_t reach = 0;  // largest s with f[s] possibly > 0
  for (int64_t r : doubled_ranks) {
    for (int64_t s = reach + r; s >= 0; --s) {
      const double with = s >= r ? f[static_cast<size_t>(s - r)] : 0.0;
      f[static_cast<size_t>(s)] = 0.5 * (f[static_cast<size_t>(s)] + with);
    }
    reach += r;
  }
  double lower = 0.0;
  double upper = 0.0;
  for (int64_t s = 0; s <= total; ++s) {
    if (s <= observed) lower += f[static_cast<size_t>(s)];
    if (s >= observed) upper += f[static_cast<size_t>(s)];
  }
  return {std::min(1.0, lower), std::min(1.0, upper)};
}

}  // namespace

absl::StatusOr<std::vector<double>> PairedDifferences(absl::Span<const double> a, absl::Span<const double> b,
                                                      int64_t min_pairs) {
  constexpr absl::string_view kWhat = "paired samples";
  if (a.size() != b.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": a has ", a.size(), " values and b has ", b.size(), "; pairs need equal lengths"));
  }
  if (static_cast<int64_t>(a.size()) < min_pairs) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, ": need at least ", min_pairs, " pairs, got ", a.size()));
  }
  if (absl::Status s = CheckFinite(a, kWhat, "a"); !s.ok()) return s;
  if (absl::Status s = CheckFinite(b, kWhat, "b"); !s.ok()) return s;
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    d[i] = a[i] - b[i];
    if (!std::isfinite(d[i])) {  // both finite, the difference overflowed
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": a[", i, "] - b[", i, "] overflows"));
    }
  }
  return d;
}

absl::StatusOr<TTestResult> OneSampleTTest(absl::Span<const double> d, Alternative alternative, double confidence) {
  constexpr absl::string_view kWhat = "t-test";
  if (d.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, ": need at least 2 differences, got ", d.size()));
  }
  if (absl::Status s = CheckFinite(d, kWhat, "d"); !s.ok()) return s;
  if (absl::Status s = CheckConfidence(confidence, kWhat); !s.ok()) return s;
  absl::StatusOr<Summary> summary = Summarize(d, confidence);
  if (!summary.ok()) return summary.status();
  TTestResult result;
  result.mean = summary->mean;
  result.stderr_mean = summary->stderr_mean;
  result.df = static_cast<double>(d.size() - 1);
  // stderr 0: ±infinity for a non-zero mean, 0/0 = NaN for a zero one.
  result.t = result.mean / result.stderr_mean;
  // Both tails from the lower-tail CDF at ±t, so neither is 1 − (small).
  result.p = std::isnan(result.t)
                 ? kNaN
                 : TailPValue(StudentTCdf(result.t, result.df), StudentTCdf(-result.t, result.df), alternative);
  result.ci_low = summary->ci_low;
  result.ci_high = summary->ci_high;
  return result;
}

absl::StatusOr<WilcoxonResult> WilcoxonSignedRank(absl::Span<const double> d, const WilcoxonOptions& options) {
  constexpr absl::string_view kWhat = "Wilcoxon signed-rank test";
  if (d.empty()) return absl::InvalidArgumentError(absl::StrCat(kWhat, ": no differences"));
  if (absl::Status s = CheckFinite(d, kWhat, "d"); !s.ok()) return s;

  const SignedRanks ranks = RankNonZero(d);
  WilcoxonResult result;
  result.n = static_cast<int64_t>(d.size());
  const int64_t nonzero = static_cast<int64_t>(ranks.doubled_ranks.size());
  result.zeros = result.n - nonzero;
  result.ties = !ranks.tie_groups.empty();
  result.r_plus = static_cast<double>(ranks.doubled_r_plus) / 2.0;
  result.r_minus = static_cast<double>(ranks.doubled_r_minus) / 2.0;
  result.statistic =
      options.alternative == Alternative::kTwoSided ? std::min(result.r_plus, result.r_minus) : result.r_plus;

  WilcoxonMethod method = options.method;
  if (method == WilcoxonMethod::kAuto) {
    // scipy >= 1.15 decides on the number of differences given, zeros
    // included.
    if (result.n > 50) {
      method = WilcoxonMethod::kAsymptotic;
    } else if (!result.ties && result.zeros == 0) {
      method = WilcoxonMethod::kExact;
    } else {
      method = result.n <= 13 ? WilcoxonMethod::kExact : WilcoxonMethod::kAsymptotic;
    }
  }
  if (method == WilcoxonMethod::kExact && nonzero > kMaxExactWilcoxon) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, ": the exact distribution is limited to ", kMaxExactWilcoxon,
                                                   " non-zero differences, got ", nonzero,
                                                   "; use the normal approximation"));
  }
  result.method = method;

  if (nonzero == 0) {  // nothing to rank: no evidence either way
    result.z = kNaN;
    result.p = 1.0;
    return result;
  }
  if (method == WilcoxonMethod::kExact) {
    const auto [lower, upper] = ExactTails(ranks.doubled_ranks, ranks.doubled_r_plus);
    result.z = kNaN;
    result.p = TailPValue(lower, upper, options.alternative);
    return result;
  }

  const double n = static_cast<double>(nonzero);
  double ties = 0.0;
  for (int64_t t : ranks.tie_groups) {
    const double dt = static_cast<double>(t);
    ties += dt * dt * dt - dt;
  }
  const double mean = n * (n + 1.0) / 4.0;
  const double se = std::sqrt((n * (n + 1.0) * (2.0 * n + 1.0) - ties / 2.0) / 24.0);
  double z = (result.r_plus - mean) / se;
  if (options.correction) {
    // 0.5 toward the mean: for one-sided tests in the alternative's
    // direction (as scipy and R do), for two-sided by the sign of z.
    const double sign = options.alternative == Alternative::kGreater ? 1.0
                        : options.alternative == Alternative::kLess  ? -1.0
                        : z > 0.0                                    ? 1.0
                        : z < 0.0                                    ? -1.0
                                                                     : 0.0;
    z -= sign * 0.5 / se;
  }
  result.p = TailPValue(NormalCdf(z), NormalCdf(-z), options.alternative);
  result.z = options.alternative == Alternative::kTwoSided ? -std::fabs(z) : z;
  return result;
}

absl::StatusOr<BootstrapInterval> BootstrapMeanInterval(absl::Span<const double> d, int resamples, uint64_t seed,
                                                        double confidence) {
  constexpr absl::string_view kWhat = "bootstrap";
  if (d.empty()) return absl::InvalidArgumentError(absl::StrCat(kWhat, ": no values to resample"));
  if (resamples < 1 || resamples > kMaxBootstrapResamples) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": resamples must be in [1, ", kMaxBootstrapResamples, "], got ", resamples));
  }
  if (absl::Status s = CheckFinite(d, kWhat, "d"); !s.ok()) return s;
  if (absl::Status s = CheckConfidence(confidence, kWhat); !s.ok()) return s;

  std::mt19937_64 rng(seed);
  const uint64_t n = d.size();
  const double dn = static_cast<double>(n);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& mean : means) {
    double sum = 0.0;
    for (uint64_t k = 0; k < n; ++k) sum += d[UniformIndex(rng, n)];
    mean = sum / dn;
  }
  std::sort(means.begin(), means.end());
  const double alpha = 1.0 - confidence;
  return BootstrapInterval{SortedQuantile(means, alpha / 2.0), SortedQuantile(means, 1.0 - alpha / 2.0)};
}

absl::StatusOr<PairedComparison> ComparePaired(absl::Span<const double> a, absl::Span<const double> b,
                                               const PairedOptions& options) {
  absl::StatusOr<std::vector<double>> d = PairedDifferences(a, b);
  if (!d.ok()) return d.status();
  absl::StatusOr<TTestResult> t = OneSampleTTest(*d, options.wilcoxon.alternative, options.confidence);
  if (!t.ok()) return t.status();
  absl::StatusOr<WilcoxonResult> w = WilcoxonSignedRank(*d, options.wilcoxon);
  if (!w.ok()) return w.status();
  absl::StatusOr<BootstrapInterval> ci = BootstrapMeanInterval(*d, options.resamples, options.seed, options.confidence);
  if (!ci.ok()) return ci.status();
  absl::StatusOr<Summary> sa = Summarize(a);
  absl::StatusOr<Summary> sb = Summarize(b);
  absl::StatusOr<Summary> sd = Summarize(*d);
  if (!sa.ok() || !sb.ok() || !sd.ok()) {  // not reached: the inputs were checked above
    return absl::InternalError("ComparePaired: summary of checked values failed");
  }

  PairedComparison out;
  out.n = static_cast<int64_t>(d->size());
  out.mean_a = sa->mean;
  out.mean_b = sb->mean;
  out.mean_difference = sd->mean;
  out.sd_difference = sd->stddev;
  out.bootstrap = *ci;
  out.t_test = *t;
  out.wilcoxon = *w;
  out.cohens_dz = sd->mean / sd->stddev;
  return out;
}

absl::string_view WilcoxonMethodName(WilcoxonMethod method) {
  switch (method) {
    case WilcoxonMethod::kAuto:
      return "auto";
    case WilcoxonMethod::kExact:
      return "exact";
    case WilcoxonMethod::kAsymptotic:
      return "asymptotic";
  }
  return "unknown";
}

absl::StatusOr<WilcoxonMethod> ParseWilcoxonMethod(absl::string_view text) {
  for (WilcoxonMethod m : {WilcoxonMethod::kAuto, WilcoxonMethod::kExact, WilcoxonMethod::kAsymptotic}) {
    if (text == WilcoxonMethodName(m)) return m;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("Wilcoxon method must be auto, exact or asymptotic, got '", text, "'"));
}

absl::string_view AlternativeName(Alternative alternative) {
  switch (alternative) {
    case Alternative::kTwoSided:
      return "two-sided";
    case Alternative::kLess:
      return "less";
    case Alternative::kGreater:
      return "greater";
  }
  return "unknown";
}

absl::StatusOr<Alternative> ParseAlternative(absl::string_view text) {
  for (Alternative a : {Alternative::kTwoSided, Alternative::kLess, Alternative::kGreater}) {
    if (text == AlternativeName(a)) return a;
  }
  return absl::InvalidArgumentError(absl::StrCat("alternative must be two-sided, less or greater, got '", text, "'"));
}

}  // namespace dreamshot::core

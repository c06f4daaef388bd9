// Tests for two paired samples a_i, b_i (two systems scored on the same
// prompts and seeds): the mean difference with a seeded paired bootstrap
// interval, the paired t-test, the Wilcoxon signed-rank test and Cohen's d_z.
// Differences are always d_i = a_i − b_i, the convention of R's
// t.test(x, y, paired = TRUE) and scipy's ttest_rel / wilcoxon(x, y), so
// published examples carry over with their signs.
//
// Pure and deterministic (the bootstrap given its seed, on every platform);
// torch-free, so the `dreamshot` client links it (`stats paired`).
#ifndef DREAMSHOT_CORE_PAIRED_STATISTICS_H_
#define DREAMSHOT_CORE_PAIRED_STATISTICS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace dreamshot::core {

// The alternative hypothesis about the differences' location (mean for the
// t-test, symmetry centre for Wilcoxon): != 0, < 0 or > 0.
enum class Alternative { kTwoSided, kLess, kGreater };

// d_i = a_i − b_i. Errors (InvalidArgument): different lengths, fewer than
// `min_pairs` pairs, or a NaN / infinite value (the message names the
// sample and index, e.g. "b[3]").
absl::StatusOr<std::vector<double>> PairedDifferences(absl::Span<const double> a, absl::Span<const double> b,
                                                      int64_t min_pairs = 2);

// ------------------------------------------------------------- t-test

struct TTestResult {
  double mean = 0.0;         // of the differences
  double stderr_mean = 0.0;  // sd / sqrt(n)
  double t = 0.0;            // mean / stderr_mean
  double df = 0.0;           // n − 1
  double p = 0.0;            // for the alternative asked
  // Two-sided Student-t interval of the mean difference at `confidence`
  // (whatever the alternative).
  double ci_low = 0.0;
  double ci_high = 0.0;
};

// One-sample t-test of mean(d) = 0, i.e. the paired t-test on differences
// (scipy.stats.ttest_rel, R's t.test(paired = TRUE)). When every difference
// is equal, stderr_mean is 0: t is ±infinity with p = 0 (two-sided) for a
// non-zero mean, and t and p are NaN when every difference is 0, as in scipy.
// Errors (InvalidArgument): n < 2, a non-finite value, confidence outside
// (0, 1).
absl::StatusOr<TTestResult> OneSampleTTest(absl::Span<const double> d, Alternative alternative = Alternative::kTwoSided,
                                           double confidence = 0.95);

// ------------------------------------------------- Wilcoxon signed-rank

enum class WilcoxonMethod { kAuto, kExact, kAsymptotic };

struct WilcoxonOptions {
  WilcoxonMethod method = WilcoxonMethod::kAuto;
  // Continuity correction of the normal approximation (0.5 toward the
  // mean). Off by default, as in scipy; R's wilcox.test turns it on.
  bool correction = false;
  Alternative alternative = Alternative::kTwoSided;
};

struct WilcoxonResult {
  // scipy's statistic: min(R+, R−) for two-sided, R+ otherwise (R's V is
  // always R+).
  double statistic = 0.0;
  double r_plus = 0.0;                             // sum of the ranks of the positive differences
  double r_minus = 0.0;                            // ... and of the negative ones
  int64_t n = 0;                                   // differences given
  int64_t zeros = 0;                               // dropped before ranking
  bool ties = false;                               // among the non-zero |d|
  WilcoxonMethod method = WilcoxonMethod::kExact;  // the one used: kExact or kAsymptotic
  // Normal approximation: (R+ − n'(n'+1)/4) / se, continuity-corrected when
  // asked, and −|z| for two-sided (scipy's zstatistic). NaN for kExact and
  // when no difference is non-zero.
  double z = 0.0;
  double p = 0.0;
};

// The Wilcoxon signed-rank test of "the differences are symmetric about 0",
// following scipy.stats.wilcoxon of scipy >= 1.15 with its defaults
// (zero_method="wilcox", correction=False, method="auto"):
//  - zeros are dropped and the remaining n' = n − zeros |d| are ranked,
//    ties getting their average rank;
//  - kAuto picks, by the number n of differences given (zeros included):
//    n > 50: the normal approximation; otherwise, without ties and zeros,
//    the exact null distribution; with ties or zeros and n <= 13, the exact
//    distribution of R+ given the tied ranks (what scipy's exhaustive
//    permutation test computes); otherwise the normal approximation;
//  - the normal approximation has mean n'(n'+1)/4 and variance
//    (n'(n'+1)(2n'+1) − Σ(t³ − t)/2) / 24 over the tie groups of size t;
//  - the exact two-sided p-value is min(1, 2 · min(P(R+ <= r), P(R+ >= r))).
// kExact always uses the exact distribution of R+ given the (tied) ranks,
// computed by convolution over the doubled ranks; for n' <= 52 every
// probability is exact in double. (scipy's method="exact" with ties rounds
// the statistic onto the untied distribution instead; kAuto never does.)
// Without any non-zero difference, R+ = R− = 0 and p = 1 (scipy's normal
// approximation gives NaN there). Differences of nearly equal scores can tie
// or not by rounding; round them first when ties matter.
//
// Errors (InvalidArgument): no differences, a non-finite value, kExact with
// more than kMaxExactWilcoxon non-zero differences.
inline constexpr int64_t kMaxExactWilcoxon = 500;
absl::StatusOr<WilcoxonResult> WilcoxonSignedRank(absl::Span<const double> d, const WilcoxonOptions& options = {});

// -------------------------------------------------------------- bootstrap

struct BootstrapInterval {
  double low = 0.0;
  double high = 0.0;
};

// Percentile bootstrap interval of mean(d): each of `resamples` replicates
// draws n differences uniformly with replacement (indices from
// core::UniformIndex on std::mt19937_64(seed), drawn in order, summed in
// order) and takes their mean; low and high are the (1 − confidence)/2 and
// (1 + confidence)/2 type-7 quantiles of the replicate means. Resampling
// the differences, not a and b separately, keeps each pair together (the
// pairing is what makes the comparison sharp). Bit-identical for a seed on
// every IEEE-754 platform.
//
// Errors (InvalidArgument): no values, a non-finite value, resamples outside
// [1, kMaxBootstrapResamples], confidence outside (0, 1).
inline constexpr int kMaxBootstrapResamples = 10'000'000;
absl::StatusOr<BootstrapInterval> BootstrapMeanInterval(absl::Span<const double> d, int resamples, uint64_t seed,
                                                        double confidence = 0.95);

// ------------------------------------------------------- all of the above

struct PairedOptions {
  double confidence = 0.95;  // of the bootstrap and t intervals
  int resamples = 10'000;
  uint64_t seed = 0;
  WilcoxonOptions wilcoxon;  // its alternative is also the t-test's
};

struct PairedComparison {
  int64_t n = 0;
  double mean_a = 0.0;
  double mean_b = 0.0;
  double mean_difference = 0.0;  // mean(a − b)
  double sd_difference = 0.0;    // sample sd (divisor n − 1)
  BootstrapInterval bootstrap;   // of mean_difference
  TTestResult t_test;
  WilcoxonResult wilcoxon;
  // Cohen's d_z = mean_difference / sd_difference (the paired effect size;
  // equals t / sqrt(n)). ±infinity or NaN when sd_difference is 0, as t.
  double cohens_dz = 0.0;
};

// Everything above for a against b. Errors (InvalidArgument): different
// lengths, n < 2, non-finite values (naming "a[i]" / "b[i]"), and the
// options' errors above.
absl::StatusOr<PairedComparison> ComparePaired(absl::Span<const double> a, absl::Span<const double> b,
                                               const PairedOptions& options = {});

// "auto" / "exact" / "asymptotic" and back; an unknown name is InvalidArgument.
absl::string_view WilcoxonMethodName(WilcoxonMethod method);
absl::StatusOr<WilcoxonMethod> ParseWilcoxonMethod(absl::string_view text);
// "two-sided" / "less" / "greater" and back.
absl::string_view AlternativeName(Alternative alternative);
absl::StatusOr<Alternative> ParseAlternative(absl::string_view text);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PAIRED_STATISTICS_H_

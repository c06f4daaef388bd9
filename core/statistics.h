// Descriptive statistics and the special functions behind them: summaries of
// a sample with Student-t confidence intervals (seed aggregates of experiment
// runs), the Student t and normal distributions, the regularized incomplete
// beta function, the exact two-sided binomial test (sign tests), Wilson
// intervals of shares, Holm's multiple-testing adjustment, and the two pieces
// every bootstrap here shares (a portable uniform index, type-7 quantiles).
// Paired tests are in core/paired_statistics.h.
//
// The special functions are Boost.Math's (libboost-math-dev, header-only),
// wrapped so that errors come back as values (NaN, +/-infinity), never as
// exceptions. Checked against 50-digit references (statistics_test.cc and
// a randomized sweep against mpmath): typically ~1e-16 relative, worst seen
// ~3e-14 (Student t CDF and quantile in tails below 1e-50, incomplete beta
// near the underflow limit), also for non-integer, tiny (0.01) and huge
// (1e8) dof; near the median Student t quantiles are accurate in absolute
// terms (~1e-20), not relative ones.
#ifndef DREAMSHOT_CORE_STATISTICS_H_
#define DREAMSHOT_CORE_STATISTICS_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace dreamshot::core {

// Summary of a sample x_1..x_n.
struct Summary {
  int64_t n = 0;
  double mean = 0.0;
  // Sample standard deviation (divisor n - 1). NaN when n == 1.
  double stddev = 0.0;
  // Standard error of the mean, stddev / sqrt(n). NaN when n == 1.
  double stderr_mean = 0.0;
  // Two-sided Student-t confidence interval for the mean,
  // mean -/+ t_{(1+confidence)/2, n-1} * stderr_mean. NaN when n == 1.
  double ci_low = 0.0;
  double ci_high = 0.0;
  double min = 0.0;
  double max = 0.0;
};

// Summarizes `values`. The mean uses compensated summation and the variance
// the corrected two-pass formula, so results are accurate even for large n or
// values with a large common offset.
//
// Errors (InvalidArgument): `values` is empty, a value is NaN or infinite
// (the message names its index), or `confidence` is not in the open interval
// (0, 1). With n == 1, stddev, stderr_mean, ci_low and ci_high are NaN (a
// single observation carries no spread information); mean, min and max equal
// the value.
absl::StatusOr<Summary> Summarize(absl::Span<const double> values,
                                  double confidence = 0.95);

// Regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for
// finite a > 0, b > 0 and 0 <= x <= 1; NaN for arguments outside that domain.
// boost::math::ibeta, accurate also for large a, b (1e6).
double RegularizedIncompleteBeta(double a, double b, double x);

// Cumulative distribution function of Student's t with `dof` > 0 degrees of
// freedom (not necessarily an integer; +infinity gives the standard normal).
// NaN when t or dof is NaN or dof <= 0. Lower-tail values are computed
// directly, so CDF(t) stays relatively accurate for very negative t.
double StudentTCdf(double t, double dof);

// Inverse of StudentTCdf in its first argument: the t with CDF(t) = p.
// p == 0 gives -infinity and p == 1 gives +infinity (also returned when the
// quantile exceeds the double range, possible for tiny dof); NaN when p is
// outside [0, 1], or dof is NaN or <= 0.
double StudentTQuantile(double p, double dof);

// Standard normal CDF, 0.5 * erfc(-z / sqrt(2)). NaN for NaN.
double NormalCdf(double z);

// Standard normal quantile (probit): the z with NormalCdf(z) = p. p == 0 and
// p == 1 give -/+ infinity; NaN for p outside [0, 1].
double NormalQuantile(double p);

// Exact two-sided binomial test p-value for `successes` out of `trials`
// under success probability `p`, defined as in scipy.stats.binomtest: the
// total probability of all outcomes whose probability is no larger than that
// of the observed outcome (with scipy's 1e-7 relative tolerance), capped at 1.
// Exactly 1 when successes == trials * p. NaN when trials < 0, successes is
// outside [0, trials] or p is outside [0, 1]. Symmetric to the last bit for
// p = 0.5: P(k, n) == P(n - k, n).
double BinomialTwoSidedPValue(int64_t successes, int64_t trials,
                              double p = 0.5);

// A share with its confidence interval, all in [0, 1].
struct Proportion {
  double value = 0.0;
  double low = 0.0;
  double high = 0.0;
};

// Wilson score interval for `successes` out of `n` (z = 1.96 by default, a
// 95% two-sided interval). value is successes / n. Chosen over the Wald
// interval because it stays inside [0, 1] and keeps near-nominal coverage for
// small n and shares near 0 or 1 (survey answers, shot-scale agreement):
//   center = (p + z²/2n) / (1 + z²/n)
//   half   = z / (1 + z²/n) · sqrt(p(1 − p)/n + z²/4n²)
// n == 0 gives all zeros (nothing observed yet); successes outside [0, n] or
// n < 0 give all NaN.
Proportion WilsonInterval(int64_t successes, int64_t n, double z = 1.959963984540054);

// Holm's step-down adjustment (Holm 1979) of a family of p-values, as R's
// p.adjust(p, "holm"): with the m p-values sorted ascending,
//   adjusted_(i) = min(1, max_{j <= i} (m − j + 1) · p_(j)),
// returned in the input order. Rejecting every hypothesis whose adjusted
// p-value is <= alpha controls the family-wise error rate at alpha under any
// dependence between the tests. Adjusted values never fall below the raw
// ones and keep their order (monotone). NaN entries stay NaN and do not count
// toward m (R's p.adjust with NAs), so an undefined test does not make the
// others stricter. Ties are adjusted alike.
//
// Errors (InvalidArgument): a p-value outside [0, 1] (the message names its
// index).
absl::StatusOr<std::vector<double>> HolmAdjust(absl::Span<const double> p_values);

// Uniform integer in [0, n), n >= 1, from `rng` by rejection: raw values
// below 2^64 mod n are dropped so every residue is equally likely. Unlike
// std::uniform_int_distribution (whose algorithm each standard library picks)
// the mapping is ours, and std::mt19937_64's output is fixed by the standard,
// so a seed gives the same draws on every platform: every bootstrap here draws
// through this.
uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n);

// Quantile q in [0, 1] of sorted, non-empty `sorted`, interpolating linearly
// between order statistics at position (size − 1) · q (R's type 7, numpy's
// default). q outside [0, 1] is clamped.
double SortedQuantile(absl::Span<const double> sorted, double q);

// Quantile q of unsorted `values` (SortedQuantile after sorting a copy); 0
// for an empty vector.
double Quantile(std::vector<double> values, double q);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_STATISTICS_H_

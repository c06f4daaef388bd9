#include "core/statistics.h"

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dreamshot::core {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Boost.Math throws on every error by default. The functions here promise
// values instead (NaN outside the domain, +/-infinity where a quantile
// exceeds the double range), so every error category is turned into its
// value: ignore_error returns NaN for domain errors, +/-infinity for
// overflow and poles, and the best estimate for a series that did not
// converge. Arguments are still checked before each call, so that the
// documented edge cases do not depend on Boost's choices. Internally Boost
// keeps its default of evaluating double in long double, which is what
// gives the ~1e-16 relative accuracy the tests check.
namespace bp = boost::math::policies;
using Policy = bp::policy<bp::domain_error<bp::ignore_error>, bp::pole_error<bp::ignore_error>,
                          bp::overflow_error<bp::ignore_error>, bp::underflow_error<bp::ignore_error>,
                          bp::denorm_error<bp::ignore_error>, bp::evaluation_error<bp::ignore_error>,
                          bp::rounding_error<bp::ignore_error>,
                          bp::indeterminate_result_error<bp::ignore_error>>;

using StudentT = boost::math::students_t_distribution<double, Policy>;
using Normal = boost::math::normal_distribution<double, Policy>;
using Binomial = boost::math::binomial_distribution<double, Policy>;

// Neumaier's compensated summation.
class CompensatedSum {
 public:
  void Add(double v) {
    const double t = sum_ + v;
    if (std::fabs(sum_) >= std::fabs(v)) {
      compensation_ += (sum_ - t) + v;
    } else {
      compensation_ += (v - t) + sum_;
    }
    sum_ = t;
  }
  double Total() const { return sum_ + compensation_; }

 private:
  double sum_ = 0.0;
  double compensation_ = 0.0;
};

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (std::isnan(a) || std::isnan(b) || std::isnan(x) || a <= 0.0 || b <= 0.0 || x < 0.0 ||
      x > 1.0 || std::isinf(a) || std::isinf(b)) {
    return kNaN;
  }
  return boost::math::ibeta(a, b, x, Policy());
}

double StudentTCdf(double t, double dof) {
  if (std::isnan(t) || std::isnan(dof) || dof <= 0.0) return kNaN;
  if (std::isinf(dof)) return NormalCdf(t);
  if (t == 0.0) return 0.5;
  if (std::isinf(t)) return t < 0.0 ? 0.0 : 1.0;
  // Boost takes the lower tail from I_x(dof/2, 1/2) directly (no 1 - p),
  // so very negative t keep their relative accuracy.
  return boost::math::cdf(StudentT(dof), t);
}

double StudentTQuantile(double p, double dof) {
  if (std::isnan(p) || std::isnan(dof) || dof <= 0.0 || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  if (std::isinf(dof)) return NormalQuantile(p);
  if (p == 0.5) return 0.0;
  // Quantiles beyond the double range (tiny dof, far tails) are an overflow,
  // which the policy turns into -/+infinity.
  return boost::math::quantile(StudentT(dof), p);
}

double NormalCdf(double z) {
  if (std::isnan(z)) return kNaN;
  if (std::isinf(z)) return z < 0.0 ? 0.0 : 1.0;
  return boost::math::cdf(Normal(), z);
}

double NormalQuantile(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  if (p == 0.5) return 0.0;
  return boost::math::quantile(Normal(), p);
}

double BinomialTwoSidedPValue(int64_t successes, int64_t trials, double p) {
  if (trials < 0 || successes < 0 || successes > trials || std::isnan(p) || p < 0.0 ||
      p > 1.0) {
    return kNaN;
  }
  const int64_t k = successes;
  const int64_t n = trials;
  const double expected = static_cast<double>(n) * p;
  if (static_cast<double>(k) == expected) return 1.0;  // also covers n == 0
  // Degenerate p: the observed outcome has probability 0 (it is not the
  // expected one), and so does every outcome counted.
  if (p == 0.0 || p == 1.0) return 0.0;

  // scipy.stats.binomtest computes exactly this with the same Boost
  // distribution: pmf, cdf and survival function. The cdf and survival
  // function are each one incomplete beta call (never 1 - p), so both tails
  // keep their relative accuracy; with p = 1/2 the two tails go through the
  // same call, which keeps P(k, n) == P(n - k, n) exact.
  const Binomial binomial(static_cast<double>(n), p);
  auto pmf = [&](int64_t i) { return boost::math::pdf(binomial, static_cast<double>(i)); };
  auto at_most = [&](int64_t i) {  // P(X <= i)
    return i < 0 ? 0.0 : boost::math::cdf(binomial, static_cast<double>(i));
  };
  auto at_least = [&](int64_t i) {  // P(X >= i)
    return i > n ? 0.0 : i <= 0 ? 1.0 : boost::math::cdf(boost::math::complement(binomial, static_cast<double>(i - 1)));
  };
  // scipy counts outcomes with pmf <= pmf(k) * (1 + 1e-7). Where pmf(k)
  // underflows to 0 the outcomes counted are those whose pmf underflows too;
  // the p-value is then below the double range anyway.
  const double threshold = pmf(k) * (1.0 + 1e-7);

  // The pmf increases up to its mode floor((n + 1) p) and decreases after,
  // and floor(np) <= mode <= ceil(np): the outcomes as unlikely as k on the
  // other side of the mean form a tail found by binary search.
  double pvalue;
  if (static_cast<double>(k) < expected) {
    // Smallest j in [ceil(np), n] with pmf(j) <= threshold (n + 1 if none).
    int64_t first = static_cast<int64_t>(std::ceil(expected));
    int64_t last = n + 1;  // pmf(last) treated as <= threshold
    while (first < last) {
      const int64_t mid = first + (last - first) / 2;
      if (pmf(mid) <= threshold) {
        last = mid;
      } else {
        first = mid + 1;
      }
    }
    pvalue = at_most(k) + at_least(first);
  } else {
    // Largest j in [0, floor(np)] with pmf(j) <= threshold (-1 if none).
    int64_t first = -1;  // pmf(first) treated as <= threshold
    int64_t last = static_cast<int64_t>(std::floor(expected));
    while (first < last) {
      const int64_t mid = last - (last - first) / 2;
      if (pmf(mid) <= threshold) {
        first = mid;
      } else {
        last = mid - 1;
      }
    }
    pvalue = at_most(first) + at_least(k);
  }
  return std::min(1.0, pvalue);
}

absl::StatusOr<Summary> Summarize(absl::Span<const double> values, double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Summarize: confidence must be in the open interval (0, 1), got %g", confidence));
  }
  if (values.empty()) {
    return absl::InvalidArgumentError("Summarize: no values to summarize (empty input)");
  }
  double min = values[0];
  double max = values[0];
  double max_abs = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrCat("Summarize: values[", i, "] of ",
                                                     values.size(), " is not finite (", v,
                                                     ")"));
    }
    min = std::min(min, v);
    max = std::max(max, v);
    max_abs = std::max(max_abs, std::fabs(v));
  }

  // Work on values scaled by a power of two (exact) so that neither the sum
  // nor the squared deviations can overflow or underflow.
  const int exponent = max_abs > 0.0 ? std::ilogb(max_abs) : 0;
  const size_t n = values.size();
  const double dn = static_cast<double>(n);
  CompensatedSum sum;
  for (double v : values) sum.Add(std::ldexp(v, -exponent));
  const double mean_scaled = sum.Total() / dn;

  Summary summary;
  summary.n = static_cast<int64_t>(n);
  summary.mean = std::clamp(std::ldexp(mean_scaled, exponent), min, max);
  summary.min = min;
  summary.max = max;
  if (n == 1) {
    summary.stddev = kNaN;
    summary.stderr_mean = kNaN;
    summary.ci_low = kNaN;
    summary.ci_high = kNaN;
    return summary;
  }

  // Corrected two-pass variance: sum d^2 - (sum d)^2 / n with d = x - mean.
  CompensatedSum squares;
  CompensatedSum deviations;
  for (double v : values) {
    const double d = std::ldexp(v, -exponent) - mean_scaled;
    squares.Add(d * d);
    deviations.Add(d);
  }
  const double correction = deviations.Total();
  const double variance_scaled =
      std::max(0.0, (squares.Total() - correction * correction / dn) / (dn - 1.0));
  summary.stddev = std::ldexp(std::sqrt(variance_scaled), exponent);
  summary.stderr_mean = summary.stddev / std::sqrt(dn);
  // t_{(1+c)/2} = -t_{(1-c)/2}; 1 - c is exact for c >= 0.5, so this keeps
  // precision for confidences close to 1.
  const double t = -StudentTQuantile(0.5 * (1.0 - confidence), dn - 1.0);
  const double half_width = t * summary.stderr_mean;
  summary.ci_low = summary.mean - half_width;
  summary.ci_high = summary.mean + half_width;
  return summary;
}

Proportion WilsonInterval(int64_t successes, int64_t n, double z) {
  if (n < 0 || successes < 0 || successes > n) return {kNaN, kNaN, kNaN};
  if (n == 0) return {};
  const double dn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / dn;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / dn;
  const double center = (p + z2 / (2.0 * dn)) / denom;
  const double half = z / denom * std::sqrt(p * (1.0 - p) / dn + z2 / (4.0 * dn * dn));
  // Clamped: at p = 0 or 1 the bound is 0 or 1 mathematically, but rounding
  // can land a hair outside.
  return {p, std::max(0.0, center - half), std::min(1.0, center + half)};
}

absl::StatusOr<std::vector<double>> HolmAdjust(absl::Span<const double> p_values) {
  std::vector<size_t> order;  // indices of the non-NaN p-values
  for (size_t i = 0; i < p_values.size(); ++i) {
    const double p = p_values[i];
    if (std::isnan(p)) continue;
    if (p < 0.0 || p > 1.0) {
      return absl::InvalidArgumentError(
          absl::StrCat("HolmAdjust: p-value ", i, " is ", p, ", outside [0, 1]"));
    }
    order.push_back(i);
  }
  // Stable, so that tied p-values keep their input order (their adjusted
  // values are equal either way).
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> adjusted(p_values.begin(), p_values.end());
  const size_t m = order.size();
  double running_max = 0.0;
  for (size_t rank = 0; rank < m; ++rank) {
    const size_t i = order[rank];
    const double scaled = static_cast<double>(m - rank) * p_values[i];
    running_max = std::max(running_max, std::min(1.0, scaled));
    adjusted[i] = running_max;
  }
  return adjusted;
}

uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // == 2^64 mod n
  while (true) {
    const uint64_t u = rng();
    if (u >= threshold) return u % n;
  }
}

double SortedQuantile(absl::Span<const double> sorted, double q) {
  q = std::min(1.0, std::max(0.0, q));
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return SortedQuantile(values, q);
}

}  // namespace dreamshot::core

#include "core/statistics.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dreamshot::core {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kLogSqrt2Pi = 0.918938533204672741780329736405617640;  // log(sqrt(2*pi))

// lgamma(x) - [(x - 1/2) log x - x + log sqrt(2 pi)] for x >= kStirlingMin,
// from the asymptotic (Stirling) series with Bernoulli-number coefficients
// 1/12, 1/360, 1/1260, 1/1680, 1/1188. The first omitted term is
// 691 / (360360 x^11) < 3e-16 for x >= 15.
constexpr double kStirlingMin = 15.0;
double StirlingCorrection(double x) {
  const double r = 1.0 / x;
  const double r2 = r * r;
  return r * (1.0 / 12 -
              r2 * (1.0 / 360 -
                    r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 * (1.0 / 1188)))));
}

// log(1 + u) - u for u >= -1, without cancellation for small |u|.
double Log1pMinusX(double u) {
  if (std::fabs(u) >= 0.25) return std::log1p(u) - u;
  // -u^2/2 + u^3/3 - u^4/4 + ...; |u| < 1/4 needs at most ~30 terms.
  double sum = 0.0;
  double power = u * u;  // u^k
  for (int k = 2; k < 60; ++k) {
    const double term = (k % 2 == 0 ? -power : power) / k;
    sum += term;
    if (std::fabs(term) <= 0.5 * DBL_EPSILON * std::fabs(sum)) break;
    power *= u;
  }
  return sum;
}

// log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), a, b > 0.
// Subtracting lgamma values directly loses absolute accuracy ~1e-16 *
// lgamma(a + b) when the arguments are large (e.g. t with 1e6 degrees of
// freedom, binomials with many trials); the large parts are combined
// analytically from Stirling's series instead so that they cancel exactly.
double LogBeta(double a, double b) {
  const double lo = std::min(a, b);
  const double hi = std::max(a, b);
  if (hi < kStirlingMin) return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  const double s = a + b;
  if (lo < kStirlingMin) {
    // lgamma(hi) - lgamma(hi + lo) from the series, plus lgamma(lo).
    return std::lgamma(lo) - (hi - 0.5) * std::log1p(lo / hi) - lo * std::log(s) + lo +
           StirlingCorrection(hi) - StirlingCorrection(s);
  }
  return kLogSqrt2Pi - 0.5 * std::log(s) - (a - 0.5) * std::log1p(b / a) -
         (b - 0.5) * std::log1p(a / b) + StirlingCorrection(a) + StirlingCorrection(b) -
         StirlingCorrection(s);
}

// The continued fraction of the incomplete beta function,
//   I_x(a, b) = x^a y^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...))),
//   d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
//   d_{2m}   =  m (b - m) x / ((a + 2m - 1)(a + 2m)),
// converges quickly for x < (a + 1) / (a + b + 2). This evaluates its even
// contraction
//   1 / (D_0 + N_1 / (D_1 + N_2 / (D_2 + ...))),
//   D_0 = 1 + d_1,  D_m = 1 + d_{2m} + d_{2m+1},  N_m = -d_{2m-1} d_{2m},
// with the modified Lentz method. The point of the contraction: when x is
// close to 1 (large a, e.g. Student t with many degrees of freedom) the
// terms 1 + d_j cancel, and evaluating them from a rounded x loses about
// a * epsilon relative accuracy. Expanded in terms of y, the denominators are
//   D_0 = (1 - b + (a + b) y) / (a + 1),
//   D_m = x (1 + P_m) + y,  1 + P_m = ((2m + 1 - b) a + 2m^2 + b - 1)
//                                      / ((a + 2m - 1)(a + 2m + 1)),
// (P_m = (d_{2m} + d_{2m+1}) / x), which involve y = 1 - x directly; these
// forms are used when y is the smaller, accurately known argument.
double IncompleteBetaFraction(double a, double b, double x, double y) {
  constexpr double kTiny = 1e-300;
  constexpr double kTolerance = DBL_EPSILON;
  // The number of terms needed grows like sqrt(max(a, b)) near the switch
  // point; the cap only guards against non-termination.
  const int max_terms =
      1000 + static_cast<int>(std::min(1e8, 50.0 * std::sqrt(std::max(a, b))));
  // D_0 and D_m in whichever form does not subtract large, rounded terms:
  // x-forms when x is the small (accurately known) one, else y-forms.
  const bool x_small = x <= y;
  double f = (x_small ? a + 1.0 - (a + b) * x : 1.0 - b + (a + b) * y) / (a + 1.0);  // D_0
  if (std::fabs(f) < kTiny) f = kTiny;
  double c = f;
  double d = 0.0;
  for (int m = 1; m <= max_terms; ++m) {
    const double dm = static_cast<double>(m);
    const double d_odd = -(a + dm - 1.0) * (a + b + dm - 1.0) * x /
                         ((a + 2.0 * dm - 2.0) * (a + 2.0 * dm - 1.0));  // d_{2m-1}
    const double d_even =
        dm * (b - dm) * x / ((a + 2.0 * dm - 1.0) * (a + 2.0 * dm));  // d_{2m}
    const double numerator = -d_odd * d_even;
    double denominator;
    if (x_small) {
      const double d_next = -(a + dm) * (a + b + dm) * x /
                            ((a + 2.0 * dm) * (a + 2.0 * dm + 1.0));  // d_{2m+1}
      denominator = 1.0 + d_even + d_next;
    } else {
      const double one_plus_p = ((2.0 * dm + 1.0 - b) * a + 2.0 * dm * dm + b - 1.0) /
                                ((a + 2.0 * dm - 1.0) * (a + 2.0 * dm + 1.0));
      denominator = x * one_plus_p + y;
    }
    d = denominator + numerator * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = denominator + numerator / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = c * d;
    f *= delta;
    if (std::fabs(delta - 1.0) <= kTolerance) break;
  }
  return 1.0 / f;
}

// I_x(a, b) and its complement 1 - I_x(a, b) = I_y(b, a). The caller passes
// x, y = 1 - x and their logarithms, each as accurately as it knows them:
// callers often know the smaller of x and y to full relative precision, and
// log x even where x itself underflows (Student t far tails with tiny dof).
// Whichever of the pair is evaluated directly by the continued fraction is
// accurate in relative terms; the other is 1 minus it.
struct BetaArgument {
  double x;
  double y;
  double log_x;
  double log_y;
};
// log(x^a y^b / B(a, b)), the prefactor of the continued fraction.
// For large a and b the terms a log x, b log y and log B(a, b) are huge and
// cancel to a moderate result; there the large parts are cancelled
// analytically: with s = a + b and e = x s - a = x b - y a,
//   log front = a L(e / a) + b L(-e / b) + log(ab / (2 pi s)) / 2
//               - [c(a) + c(b) - c(s)],   L(u) = log(1 + u) - u,
// where c is the Stirling correction.
double LogBetaFront(double a, double b, const BetaArgument& arg) {
  if (a < kStirlingMin || b < kStirlingMin) {
    return a * arg.log_x + b * arg.log_y - LogBeta(a, b);
  }
  const double s = a + b;
  const double e = arg.x * b - arg.y * a;
  const double u = e / a;   // x s / a - 1
  const double v = -e / b;  // y s / b - 1
  // Near 0 the series; elsewhere log(1 + u) from the accurate log x, since
  // 1 + u rebuilt from e would have lost relative precision when small.
  const double term_a = std::fabs(u) < 0.25
                            ? a * Log1pMinusX(u)
                            : a * (arg.log_x + std::log1p(b / a)) - e;
  const double term_b = std::fabs(v) < 0.25
                            ? b * Log1pMinusX(v)
                            : b * (arg.log_y + std::log1p(a / b)) + e;
  return term_a + term_b +
         0.5 * (std::log(a) + std::log(b) - std::log(s)) - kLogSqrt2Pi -
         (StirlingCorrection(a) + StirlingCorrection(b) - StirlingCorrection(s));
}

struct BetaPair {
  double lower;  // I_x(a, b)
  double upper;  // 1 - I_x(a, b)
};
BetaPair IncompleteBeta(double a, double b, const BetaArgument& arg) {
  if (arg.log_x == -kInf) return {0.0, 1.0};
  if (arg.log_y == -kInf) return {1.0, 0.0};
  const double log_front = LogBetaFront(a, b, arg);
  if (arg.x < (a + 1.0) / (a + b + 2.0)) {
    const double v = std::exp(log_front) / a * IncompleteBetaFraction(a, b, arg.x, arg.y);
    return {v, 1.0 - v};
  }
  const double v = std::exp(log_front) / b * IncompleteBetaFraction(b, a, arg.y, arg.x);
  return {1.0 - v, v};
}

// BetaArgument for a given x and y = 1 - x, either of which may be the
// accurately known one.
BetaArgument FromXAndY(double x, double y) {
  BetaArgument arg{x, y, 0.0, 0.0};
  if (x <= y) {
    arg.log_x = std::log(x);
    arg.log_y = std::log1p(-x);
  } else {
    arg.log_x = std::log1p(-y);
    arg.log_y = std::log(y);
  }
  return arg;
}

// For t != 0 (finite): x = dof / (dof + t^2) and y = t^2 / (dof + t^2),
// without overflow, with the smaller of the two accurate to full precision,
// and their logarithms accurate even where x or y underflows.
BetaArgument StudentTBetaArgument(double t, double dof) {
  const double at = std::fabs(t);
  const double log_t2_over_dof = 2.0 * std::log(at) - std::log(dof);
  BetaArgument arg;
  if (at > std::sqrt(dof)) {
    const double r = (dof / at) / at;  // dof / t^2 < 1, may underflow
    arg.x = r / (1.0 + r);
    arg.y = 1.0 / (1.0 + r);
    arg.log_x = -log_t2_over_dof - std::log1p(r);
    arg.log_y = -std::log1p(r);
  } else {
    const double r = (at / dof) * at;  // t^2 / dof <= 1, may underflow
    arg.x = 1.0 / (1.0 + r);
    arg.y = r / (1.0 + r);
    arg.log_x = -std::log1p(r);
    arg.log_y = log_t2_over_dof - std::log1p(r);
  }
  return arg;
}

// log of the Student t density at t (finite), given log B(dof/2, 1/2).
double StudentTLogPdf(double t, double dof, double log_beta) {
  const double at = std::fabs(t);
  double log1p_t2_over_dof;  // log(1 + t^2 / dof)
  if (at > std::sqrt(dof)) {
    log1p_t2_over_dof =
        2.0 * std::log(at) - std::log(dof) + std::log1p((dof / at) / at);
  } else {
    log1p_t2_over_dof = std::log1p((at / dof) * at);
  }
  return -0.5 * (dof + 1.0) * log1p_t2_over_dof - 0.5 * std::log(dof) - log_beta;
}

// Solves log F(t) = log p for t in the bracket lo < t < hi <= 0, where F is an
// increasing CDF with density `pdf` and F(lo) < p <= F(hi). Newton's method on
// log F (which behaves well in power-law and Gaussian tails alike), falling
// back to bisection whenever a Newton step leaves the bracket or does not
// shrink fast enough; bisection is geometric while the bracket spans more than
// a factor of 4, so even brackets like [-1e300, -1e-300] take few steps.
template <typename Cdf, typename Pdf>
double SolveLowerTail(double p, double lo, double hi, double start, Cdf cdf, Pdf pdf) {
  constexpr double kRelTolerance = 2.0 * DBL_EPSILON;
  constexpr int kMaxIterations = 2000;
  const double log_p = std::log(p);
  double t = start;
  double step = hi - lo;
  double previous_step = step;
  for (int i = 0; i < kMaxIterations; ++i) {
    const double cdf_t = cdf(t);
    if (cdf_t == p) return t;
    if (cdf_t < p) {
      lo = t;
    } else {
      hi = t;
    }
    const double f = std::log(cdf_t) - log_p;
    const double slope = pdf(t) / cdf_t;  // d log F / dt
    double next = t - f / slope;
    const bool newton_ok = std::isfinite(next) && slope > 0.0 && next > lo && next < hi &&
                           std::fabs(2.0 * f) <= std::fabs(previous_step * slope);
    if (!newton_ok) {
      if (hi < 0.0 && lo / hi > 4.0) {
        next = -std::exp(0.5 * (std::log(-lo) + std::log(-hi)));
      } else {
        next = 0.5 * lo + 0.5 * hi;
      }
    }
    previous_step = step;
    step = next - t;
    if (std::fabs(step) <= kRelTolerance * std::fabs(next) ||
        hi - lo <= kRelTolerance * std::fabs(lo) || next == lo || next == hi) {
      return next;
    }
    t = next;
  }
  return t;
}

// Student t quantile for 0 < p < 0.5 (so the result is negative), finite dof.
double StudentTLowerQuantile(double p, double dof) {
  if (dof == 1.0) return -1.0 / std::tan(kPi * p);                     // Cauchy
  if (dof == 2.0) return (2.0 * p - 1.0) / std::sqrt(2.0 * p * (1.0 - p));  // closed form
  const double log_beta = LogBeta(0.5 * dof, 0.5);

  // Lower bracket from the tail asymptote: the density is below
  // |t|^-(dof+1) dof^(dof/2) / B, whose CDF |t|^-dof dof^(dof/2) / (dof B)
  // equals p at |t| = sqrt(dof) (p dof B)^(-1/dof); hence F(lo) <= p there.
  const double log_abs_lo =
      0.5 * std::log(dof) - (std::log(p) + std::log(dof) + log_beta) / dof;
  double lo = log_abs_lo >= std::log(DBL_MAX) ? -DBL_MAX : -std::exp(log_abs_lo);
  while (StudentTCdf(lo, dof) >= p) {
    if (lo == -DBL_MAX) return -kInf;  // the quantile is beyond the double range
    lo = lo < -DBL_MAX / 2 ? -DBL_MAX : 2.0 * lo;
  }

  // Starting point: Cornish-Fisher expansion around the normal quantile,
  // excellent for moderate and large dof.
  const double z = NormalQuantile(p);
  const double z2 = z * z;
  const double guess = z + z * (z2 + 1.0) / (4.0 * dof) +
                       z * ((5.0 * z2 + 16.0) * z2 + 3.0) / (96.0 * dof * dof) +
                       z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) /
                           (384.0 * dof * dof * dof);
  const double start = (guess > lo && guess < 0.0) ? guess : lo;
  return SolveLowerTail(
      p, lo, 0.0, start, [dof](double t) { return StudentTCdf(t, dof); },
      [dof, log_beta](double t) { return std::exp(StudentTLogPdf(t, dof, log_beta)); });
}

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

// Binomial(n, p) probabilities P(X <= k) and P(X >= k) via the incomplete
// beta function, 0 < p < 1.
double BinomialCdf(int64_t k, int64_t n, double p, double q) {
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  return IncompleteBeta(static_cast<double>(n - k), static_cast<double>(k + 1), FromXAndY(q, p))
      .lower;
}
double BinomialSurvivalAtLeast(int64_t k, int64_t n, double p, double q) {
  if (k <= 0) return 1.0;
  if (k > n) return 0.0;
  return IncompleteBeta(static_cast<double>(k), static_cast<double>(n - k + 1), FromXAndY(p, q))
      .lower;
}

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (std::isnan(a) || std::isnan(b) || std::isnan(x) || a <= 0.0 || b <= 0.0 || x < 0.0 ||
      x > 1.0 || std::isinf(a) || std::isinf(b)) {
    return kNaN;
  }
  return IncompleteBeta(a, b, FromXAndY(x, 1.0 - x)).lower;
}

double StudentTCdf(double t, double dof) {
  if (std::isnan(t) || std::isnan(dof) || dof <= 0.0) return kNaN;
  if (std::isinf(dof)) return NormalCdf(t);
  if (t == 0.0) return 0.5;
  if (std::isinf(t)) return t < 0.0 ? 0.0 : 1.0;
  // P(|T| > |t|) = I_x(dof/2, 1/2).
  const BetaPair pair = IncompleteBeta(0.5 * dof, 0.5, StudentTBetaArgument(t, dof));
  return t < 0.0 ? 0.5 * pair.lower : 0.5 + 0.5 * pair.upper;
}

double StudentTQuantile(double p, double dof) {
  if (std::isnan(p) || std::isnan(dof) || dof <= 0.0 || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  if (std::isinf(dof)) return NormalQuantile(p);
  if (p == 0.5) return 0.0;
  // 1 - p is exact for p in [0.5, 1).
  if (p > 0.5) return -StudentTLowerQuantile(1.0 - p, dof);
  return StudentTLowerQuantile(p, dof);
}

double NormalCdf(double z) {
  if (std::isnan(z)) return kNaN;
  return 0.5 * std::erfc(-z * 0.707106781186547524400844362104849039);
}

double NormalQuantile(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  if (p == 0.5) return 0.0;
  if (p > 0.5) return -NormalQuantile(1.0 - p);
  // Starting point: rational approximation (Abramowitz & Stegun 26.2.23,
  // |error| < 4.5e-4), then Newton's method on log Phi(z) = log p, which
  // converges quadratically from there; stop once the step stops shrinking
  // (rounding noise) or is below the relative tolerance.
  const double s = std::sqrt(-2.0 * std::log(p));
  double z = -(s - (2.515517 + s * (0.802853 + s * 0.010328)) /
                       (1.0 + s * (1.432788 + s * (0.189269 + s * 0.001308))));
  const double log_p = std::log(p);
  double previous = kInf;
  for (int i = 0; i < 50; ++i) {
    const double cdf = NormalCdf(z);
    if (cdf == p) break;
    const double log_pdf = -0.5 * z * z - kLogSqrt2Pi;
    const double step = (std::log(cdf) - log_p) * std::exp(std::log(cdf) - log_pdf);
    if (!std::isfinite(step) || std::fabs(step) >= std::fabs(previous)) break;
    z -= step;
    if (std::fabs(step) <= 2.0 * DBL_EPSILON * std::fabs(z)) break;
    previous = step;
  }
  return z;
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

  const double q = 1.0 - p;
  const double log_p = std::log(p);
  const double log_q = std::log1p(-p);
  const double log_n1 = std::log(static_cast<double>(n) + 1.0);
  // log P(X = i) = i log p + (n - i) log q - log(n + 1) - log B(i + 1, n - i + 1).
  auto log_pmf = [&](int64_t i) {
    const double di = static_cast<double>(i);
    const double dn_i = static_cast<double>(n - i);
    return di * log_p + dn_i * log_q - log_n1 - LogBeta(di + 1.0, dn_i + 1.0);
  };
  // scipy counts outcomes with pmf <= pmf(k) * (1 + 1e-7).
  const double threshold = log_pmf(k) + std::log1p(1e-7);

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
      if (log_pmf(mid) <= threshold) {
        last = mid;
      } else {
        first = mid + 1;
      }
    }
    pvalue = BinomialCdf(k, n, p, q) + BinomialSurvivalAtLeast(first, n, p, q);
  } else {
    // Largest j in [0, floor(np)] with pmf(j) <= threshold (-1 if none).
    int64_t first = -1;  // pmf(first) treated as <= threshold
    int64_t last = static_cast<int64_t>(std::floor(expected));
    while (first < last) {
      const int64_t mid = last - (last - first) / 2;
      if (log_pmf(mid) <= threshold) {
        first = mid;
      } else {
        last = mid - 1;
      }
    }
    pvalue = BinomialCdf(first, n, p, q) + BinomialSurvivalAtLeast(k, n, p, q);
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

}  // namespace dreamshot::core

#include "core/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace dreamshot::core {
namespace {

constexpr double kPi = 3.141592653589793238462643383279502884;

// Expects |actual - expected| <= rel * |expected|.
void ExpectRelNear(double actual, double expected, double rel) {
  EXPECT_NEAR(actual, expected, rel * std::fabs(expected))
      << "relative error " << std::fabs(actual - expected) / std::fabs(expected);
}

// Reference values: scipy.stats.t.ppf and high-precision (mpmath, 50 digits)
// evaluation at the exact double arguments.
TEST(StudentTQuantileTest, KnownValues) {
  struct Case {
    double p;
    double dof;
    double expected;
  };
  const Case cases[] = {
      {0.975, 1, 12.706204736174698},
      {0.975, 2, 4.302652729749464},
      {0.975, 4, 2.7764451051977934},
      // 2.2621571628540993, sometimes quoted, is off by 2.5e-11 relative.
      {0.975, 9, 2.2621571627982050},
      {0.975, 29, 2.045229642132703},
      {0.995, 10, 3.169272672616955},
      {0.95, 2.5, 2.5582186141359354586},         // non-integer dof
      {0.001, 0.5, -102849.11563017554975},       // small dof, heavy tail
      {0.9, 0.3, 64.786545637096949235},
      {1e-10, 3, -2225.7692846830931927},          // far tail
      {1e-300, 5, -1.5683925590993378011e+60},     // very far tail
      {0.025, 0.05, -1.1958337585475354615e+25},   // tiny dof
      {0.975, 1e6, 1.9599663568141066553},         // large dof
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "p=" << c.p << " dof=" << c.dof);
    ExpectRelNear(StudentTQuantile(c.p, c.dof), c.expected, 1e-12);
    // Symmetry: t_{1-p} = -t_p.
    if (c.p >= 0.5) ExpectRelNear(StudentTQuantile(1 - c.p, c.dof), -c.expected, 1e-12);
  }
  EXPECT_NEAR(StudentTQuantile(0.975, 1e6), 1.959966, 1e-6);
}

TEST(StudentTQuantileTest, NearMedian) {
  // t close to 0 is resolved to absolute, not only relative, accuracy.
  EXPECT_EQ(StudentTQuantile(0.5, 7), 0.0);
  EXPECT_NEAR(StudentTQuantile(0.5 + 1e-9, 7), 2.5974602021844570215e-9, 1e-16);
}

TEST(StudentTQuantileTest, ClosedFormsAgreeWithRootFinder) {
  // dof 1 and 2 use closed forms; nearby dof go through the root finder.
  for (double p : {0.001, 0.05, 0.3, 0.7, 0.975}) {
    SCOPED_TRACE(testing::Message() << "p=" << p);
    ExpectRelNear(StudentTQuantile(p, 1.0 + 1e-9), StudentTQuantile(p, 1.0), 1e-6);
    ExpectRelNear(StudentTQuantile(p, 2.0 + 1e-9), StudentTQuantile(p, 2.0), 1e-6);
  }
}

TEST(StudentTQuantileTest, EdgeCases) {
  EXPECT_EQ(StudentTQuantile(0.0, 3), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(StudentTQuantile(1.0, 3), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(StudentTQuantile(-0.1, 3)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(1.1, 3)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.5, 0)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.5, -1)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(std::nan(""), 3)));
  // Beyond the double range for tiny dof.
  EXPECT_EQ(StudentTQuantile(1e-10, 0.01), -std::numeric_limits<double>::infinity());
  // Infinite dof is the normal distribution.
  EXPECT_DOUBLE_EQ(StudentTQuantile(0.975, std::numeric_limits<double>::infinity()),
                   NormalQuantile(0.975));
}

TEST(StudentTCdfTest, ClosedForms) {
  // Lower-tail forms free of cancellation, so that they are accurate
  // references in relative terms.
  for (double t : {-1e6, -50.0, -3.0, -1.0, -0.1, -1e-3}) {
    SCOPED_TRACE(testing::Message() << "t=" << t);
    const double at = std::fabs(t);
    // dof 1 (Cauchy): atan(1/|t|) / pi.
    ExpectRelNear(StudentTCdf(t, 1), std::atan(1 / at) / kPi, 1e-14);
    // dof 2: 1/2 - |t| / (2 sqrt(2 + t^2)) = 1 / (s (s + |t|)), s = sqrt(2 + t^2).
    const double s = std::sqrt(2 + t * t);
    ExpectRelNear(StudentTCdf(t, 2), 1 / (s * (s + at)), 1e-14);
    // dof 3: 1/2 + (u / (1 + u^2) + atan(u)) / pi, u = t / sqrt(3), cancels in
    // the far tail, hence an absolute tolerance.
    const double u = t / std::sqrt(3.0);
    EXPECT_NEAR(StudentTCdf(t, 3), 0.5 + (u / (1 + u * u) + std::atan(u)) / kPi, 1e-15);
    // Upper tail by symmetry.
    EXPECT_NEAR(StudentTCdf(-t, 1), 1 - std::atan(1 / at) / kPi, 1e-15);
  }
}

TEST(StudentTCdfTest, KnownValues) {
  ExpectRelNear(StudentTCdf(-40, 3), 0.000017190340394579264142, 1e-13);
  ExpectRelNear(StudentTCdf(-1e5, 1.5), 1.1924482404598360872e-8, 1e-13);
  ExpectRelNear(StudentTCdf(2.5, 7.5), 0.98058987086318722141, 1e-14);
  ExpectRelNear(StudentTCdf(-3, 1e8), 0.0013498983640187471935, 1e-12);
  ExpectRelNear(StudentTCdf(0.1, 30), 0.53949519410486442414, 1e-14);
  EXPECT_EQ(StudentTCdf(0, 5), 0.5);
  EXPECT_EQ(StudentTCdf(-std::numeric_limits<double>::infinity(), 5), 0.0);
  EXPECT_EQ(StudentTCdf(std::numeric_limits<double>::infinity(), 5), 1.0);
  EXPECT_TRUE(std::isnan(StudentTCdf(1, 0)));
  EXPECT_TRUE(std::isnan(StudentTCdf(std::nan(""), 2)));
}

TEST(StudentTCdfTest, SymmetryAndRoundTrip) {
  for (double dof : {0.3, 1.0, 2.0, 2.5, 4.0, 10.0, 29.0, 137.5, 1e4, 1e7}) {
    for (double t : {-300.0, -12.0, -3.0, -1.0, -0.2, 0.01, 0.7, 2.0, 5.0, 80.0}) {
      SCOPED_TRACE(testing::Message() << "dof=" << dof << " t=" << t);
      EXPECT_NEAR(StudentTCdf(t, dof) + StudentTCdf(-t, dof), 1.0, 1e-15);
      const double p = StudentTCdf(t, dof);
      // Lower-tail p carry full relative precision; an upper-tail p close to 1
      // has lost digits to rounding (1 - p), which limits any inverse.
      if (p == 0 || p > 0.99) continue;
      ExpectRelNear(StudentTQuantile(p, dof), t, 1e-12);
    }
  }
}

TEST(StudentTCdfTest, Monotone) {
  double previous = 0.0;
  for (double t = -20; t <= 20; t += 0.01) {
    const double p = StudentTCdf(t, 3.7);
    EXPECT_GE(p, previous) << "t=" << t;
    previous = p;
  }
}

TEST(NormalTest, Quantile) {
  ExpectRelNear(NormalQuantile(0.975), 1.959963984540054, 1e-14);
  ExpectRelNear(NormalQuantile(0.025), -1.959963984540054, 1e-14);
  ExpectRelNear(NormalQuantile(0.3), -0.52440051270804081597, 1e-14);
  ExpectRelNear(NormalQuantile(1e-10), -6.3613409024040561991, 1e-14);
  EXPECT_EQ(NormalQuantile(0.5), 0.0);
  EXPECT_EQ(NormalQuantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(NormalQuantile(1.0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(NormalQuantile(2.0)));
  for (double z : {-30.0, -8.0, -2.0, -0.5, 0.25, 1.0, 3.0}) {
    ExpectRelNear(NormalQuantile(NormalCdf(z)), z, 1e-13);
  }
}

TEST(RegularizedIncompleteBetaTest, KnownValues) {
  EXPECT_NEAR(RegularizedIncompleteBeta(2, 3, 0.5), 0.6875, 1e-15);
  for (double x : {0.0, 1e-9, 0.1, 0.37, 0.5, 0.9, 1.0}) {
    SCOPED_TRACE(testing::Message() << "x=" << x);
    EXPECT_NEAR(RegularizedIncompleteBeta(1, 1, x), x, 1e-15);
    // I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b.
    EXPECT_NEAR(RegularizedIncompleteBeta(3.5, 1, x), std::pow(x, 3.5), 1e-15);
    EXPECT_NEAR(RegularizedIncompleteBeta(1, 4.25, x), 1 - std::pow(1 - x, 4.25), 1e-15);
  }
  // High-precision references.
  ExpectRelNear(RegularizedIncompleteBeta(1e4, 1e4, 0.49), 0.0023370593301101495056, 1e-11);
  ExpectRelNear(RegularizedIncompleteBeta(0.1, 0.2, 0.3), 0.62284335472031733946, 1e-14);
  ExpectRelNear(RegularizedIncompleteBeta(500, 3.5, 0.995), 0.65690507579526178708, 1e-12);
  ExpectRelNear(RegularizedIncompleteBeta(2.5, 1e6, 1e-6), 0.15085530983853115975, 1e-12);
  ExpectRelNear(RegularizedIncompleteBeta(1e5, 1e5, 0.501), 0.81445325544244324535, 1e-10);
  EXPECT_NEAR(RegularizedIncompleteBeta(1e6, 1e6, 0.5), 0.5, 1e-12);
}

TEST(RegularizedIncompleteBetaTest, Symmetry) {
  for (double a : {0.05, 0.5, 2.0, 7.3, 120.0}) {
    for (double b : {0.2, 1.0, 3.0, 45.0}) {
      for (double x : {0.01, 0.2, 0.5, 0.8, 0.999}) {
        SCOPED_TRACE(testing::Message() << "a=" << a << " b=" << b << " x=" << x);
        EXPECT_NEAR(RegularizedIncompleteBeta(a, b, x),
                    1 - RegularizedIncompleteBeta(b, a, 1 - x), 1e-14);
      }
    }
  }
}

TEST(RegularizedIncompleteBetaTest, InvalidArguments) {
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(0, 1, 0.5)));
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(1, -1, 0.5)));
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(1, 1, 1.5)));
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(1, 1, -0.5)));
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(1, 1, std::nan(""))));
  EXPECT_EQ(RegularizedIncompleteBeta(2, 3, 0), 0.0);
  EXPECT_EQ(RegularizedIncompleteBeta(2, 3, 1), 1.0);
}

TEST(SummarizeTest, OneToFive) {
  const std::vector<double> values = {1, 2, 3, 4, 5};
  absl::StatusOr<Summary> s = Summarize(values);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->n, 5);
  EXPECT_EQ(s->mean, 3.0);
  EXPECT_NEAR(s->stddev, 1.5811388300841898, 1e-15);
  EXPECT_NEAR(s->stderr_mean, 1.5811388300841898 / std::sqrt(5.0), 1e-15);
  const double half = 2.7764451051977934 * 1.5811388300841898 / std::sqrt(5.0);
  EXPECT_NEAR(s->ci_low, 3 - half, 1e-13);
  EXPECT_NEAR(s->ci_high, 3 + half, 1e-13);
  EXPECT_EQ(s->min, 1.0);
  EXPECT_EQ(s->max, 5.0);
}

TEST(SummarizeTest, OtherConfidence) {
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9, 1, 3, 6};  // n = 11
  absl::StatusOr<Summary> s = Summarize(values, 0.99);
  ASSERT_TRUE(s.ok()) << s.status();
  const double half = 3.169272672616955 * s->stddev / std::sqrt(11.0);
  EXPECT_NEAR(s->ci_high - s->mean, half, 1e-13);
  EXPECT_NEAR(s->mean - s->ci_low, half, 1e-13);
}

TEST(SummarizeTest, SingleValue) {
  const std::vector<double> values = {4.5};
  absl::StatusOr<Summary> s = Summarize(values);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->n, 1);
  EXPECT_EQ(s->mean, 4.5);
  EXPECT_EQ(s->min, 4.5);
  EXPECT_EQ(s->max, 4.5);
  EXPECT_TRUE(std::isnan(s->stddev));
  EXPECT_TRUE(std::isnan(s->stderr_mean));
  EXPECT_TRUE(std::isnan(s->ci_low));
  EXPECT_TRUE(std::isnan(s->ci_high));
}

TEST(SummarizeTest, ConstantValues) {
  const std::vector<double> values(7, 0.1);
  absl::StatusOr<Summary> s = Summarize(values);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->mean, 0.1);
  EXPECT_EQ(s->stddev, 0.0);
  EXPECT_EQ(s->ci_low, 0.1);
  EXPECT_EQ(s->ci_high, 0.1);
}

TEST(SummarizeTest, LargeOffsetAndExtremeMagnitudes) {
  // A naive sum-of-squares formula loses all digits here.
  std::vector<double> values;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) values.push_back(1e9 + v);
  absl::StatusOr<Summary> s = Summarize(values);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->mean, 1e9 + 3);
  EXPECT_NEAR(s->stddev, 1.5811388300841898, 1e-15 * 1e9);

  // Neither overflow nor underflow.
  const std::vector<double> huge = {1e308, -1e308, 1.5e308};
  s = Summarize(huge);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectRelNear(s->mean, 0.5e308, 1e-14);
  EXPECT_TRUE(std::isfinite(s->stddev));
  ExpectRelNear(s->stddev, 1.3228756555322952e308, 1e-14);  // sqrt(7/4) * 1e308
  const std::vector<double> tiny = {1e-300, 2e-300, 3e-300};
  s = Summarize(tiny);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectRelNear(s->mean, 2e-300, 1e-14);
  ExpectRelNear(s->stddev, 1e-300, 1e-14);
}

TEST(SummarizeTest, Errors) {
  const std::vector<double> empty;
  absl::StatusOr<Summary> s = Summarize(empty);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("empty"), std::string::npos) << s.status();

  const std::vector<double> values = {1, 2, 3};
  for (double confidence : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    s = Summarize(values, confidence);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("confidence"), std::string::npos) << s.status();
  }

  const std::vector<double> with_nan = {1, 2, std::nan(""), 4};
  s = Summarize(with_nan);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("values[2]"), std::string::npos) << s.status();
  const std::vector<double> with_inf = {std::numeric_limits<double>::infinity()};
  s = Summarize(with_inf);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("values[0]"), std::string::npos) << s.status();
}

TEST(BinomialTwoSidedPValueTest, KnownValues) {
  // scipy.stats.binomtest(k, n, p).pvalue
  EXPECT_NEAR(BinomialTwoSidedPValue(7, 10), 0.34375, 1e-14);
  EXPECT_NEAR(BinomialTwoSidedPValue(3, 10), 0.34375, 1e-14);
  EXPECT_NEAR(BinomialTwoSidedPValue(0, 10), 0.001953125, 1e-16);
  EXPECT_NEAR(BinomialTwoSidedPValue(10, 10), 0.001953125, 1e-16);
  EXPECT_EQ(BinomialTwoSidedPValue(5, 10), 1.0);
  EXPECT_EQ(BinomialTwoSidedPValue(0, 0), 1.0);
  EXPECT_EQ(BinomialTwoSidedPValue(1, 1), 1.0);
  EXPECT_NEAR(BinomialTwoSidedPValue(0, 5), 0.0625, 1e-16);
}

TEST(BinomialTwoSidedPValueTest, AgainstExactRationalSums) {
  // Exact sums over the pmf with rational arithmetic (Python fractions).
  ExpectRelNear(BinomialTwoSidedPValue(3, 20, 0.3), 0.2204182673807094, 1e-12);
  ExpectRelNear(BinomialTwoSidedPValue(9, 20, 0.3), 0.14881459517544707, 1e-12);
  ExpectRelNear(BinomialTwoSidedPValue(60, 100), 0.05688793364098079, 1e-12);
  ExpectRelNear(BinomialTwoSidedPValue(40, 1000, 0.05), 0.16736875164155213, 1e-12);
  ExpectRelNear(BinomialTwoSidedPValue(510, 1000), 0.547972745923477, 1e-12);
}

TEST(BinomialTwoSidedPValueTest, ExtremeAndInvalid) {
  // Far tail: 2 * 2^-1000.
  ExpectRelNear(BinomialTwoSidedPValue(0, 1000), std::ldexp(1.0, -999), 1e-12);
  // Large n stays finite and symmetric.
  const double a = BinomialTwoSidedPValue(5'000'000 - 3000, 10'000'000);
  const double b = BinomialTwoSidedPValue(5'000'000 + 3000, 10'000'000);
  EXPECT_NEAR(a, b, 1e-9);
  EXPECT_NEAR(a, std::erfc(3000 / std::sqrt(2 * 2.5e6)), 1e-3);  // normal approximation
  EXPECT_EQ(BinomialTwoSidedPValue(0, 10, 0.0), 1.0);
  EXPECT_EQ(BinomialTwoSidedPValue(3, 10, 0.0), 0.0);
  EXPECT_EQ(BinomialTwoSidedPValue(10, 10, 1.0), 1.0);
  EXPECT_TRUE(std::isnan(BinomialTwoSidedPValue(11, 10)));
  EXPECT_TRUE(std::isnan(BinomialTwoSidedPValue(-1, 10)));
  EXPECT_TRUE(std::isnan(BinomialTwoSidedPValue(1, 10, 1.5)));
}

// ---------------------------------------------------------------- Wilson

TEST(WilsonIntervalTest, EightOfTen) {
  const Proportion p = WilsonInterval(8, 10);
  EXPECT_DOUBLE_EQ(p.value, 0.8);
  // Reference: the closed form evaluated in Python.
  EXPECT_NEAR(p.low, 0.4901624715366418, 1e-12);
  EXPECT_NEAR(p.high, 0.9433178485456248, 1e-12);
}

TEST(WilsonIntervalTest, ExtremesStayInsideUnitInterval) {
  const Proportion none = WilsonInterval(0, 10);
  EXPECT_EQ(none.value, 0.0);
  EXPECT_EQ(none.low, 0.0);
  EXPECT_NEAR(none.high, 0.2775327998628892, 1e-12);
  const Proportion all = WilsonInterval(10, 10);
  EXPECT_EQ(all.value, 1.0);
  EXPECT_NEAR(all.low, 0.7224672001371107, 1e-12);
  EXPECT_LE(all.high, 1.0);
  EXPECT_NEAR(all.high, 1.0, 1e-12);
}

TEST(WilsonIntervalTest, MirrorsUnderSwappingSuccessAndFailure) {
  for (int64_t k = 0; k <= 17; ++k) {
    const Proportion p = WilsonInterval(k, 17);
    const Proportion q = WilsonInterval(17 - k, 17);
    EXPECT_NEAR(p.low, 1.0 - q.high, 1e-12) << k;
    EXPECT_NEAR(p.high, 1.0 - q.low, 1e-12) << k;
    EXPECT_LE(p.low, p.value);
    EXPECT_GE(p.high, p.value);
  }
}

TEST(WilsonIntervalTest, ApproachesWaldForLargeNAndHonoursZ) {
  // n = 10^6, p = 0.3: Wilson and Wald agree to O(1/n).
  const Proportion p = WilsonInterval(300000, 1000000);
  const double wald = 1.959963984540054 * std::sqrt(0.3 * 0.7 / 1e6);
  EXPECT_NEAR(p.low, 0.3 - wald, 1e-6);
  EXPECT_NEAR(p.high, 0.3 + wald, 1e-6);
  const Proportion z0 = WilsonInterval(3, 7, 0.0);
  EXPECT_DOUBLE_EQ(z0.low, 3.0 / 7.0);
  EXPECT_DOUBLE_EQ(z0.high, 3.0 / 7.0);
  // 99% is wider than 95%.
  const Proportion wide = WilsonInterval(8, 10, 2.5758293035489004);
  EXPECT_LT(wide.low, 0.49);
  EXPECT_GT(wide.high, 0.944);
}

TEST(WilsonIntervalTest, EmptyIsZeroAndInvalidIsNaN) {
  const Proportion empty = WilsonInterval(0, 0);
  EXPECT_EQ(empty.value, 0.0);
  EXPECT_EQ(empty.low, 0.0);
  EXPECT_EQ(empty.high, 0.0);
  EXPECT_TRUE(std::isnan(WilsonInterval(11, 10).value));
  EXPECT_TRUE(std::isnan(WilsonInterval(-1, 10).low));
  EXPECT_TRUE(std::isnan(WilsonInterval(0, -1).high));
}


// --------------------------------------------------------------- quantile

TEST(QuantileTest, MatchesNumpyLinear) {
  // numpy.quantile([1, 2, 3, 4, 10], q) for q = 0, 0.5, 0.9, 0.99, 1.
  const std::vector<double> v = {10.0, 1.0, 4.0, 2.0, 3.0};
  EXPECT_DOUBLE_EQ(Quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.9), 7.6);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.99), 9.76);
  EXPECT_DOUBLE_EQ(Quantile(v, 1.0), 10.0);
  EXPECT_EQ(Quantile({}, 0.5), 0.0);
}


// ------------------------------------------------------------------- Holm

void ExpectAllNear(const std::vector<double>& actual, const std::vector<double>& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "index " << i;
}

TEST(HolmAdjustTest, WikipediaExample) {
  // The Holm–Bonferroni article's example: four hypotheses, alpha = 0.05;
  // H1 (0.01) and H4 (0.005) are rejected, H2 (0.04) and H3 (0.03) are not.
  auto adjusted = HolmAdjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_TRUE(adjusted.ok()) << adjusted.status();
  // 4 × 0.005, 3 × 0.01, max(0.03, 2 × 0.03), max(0.06, 1 × 0.04).
  ExpectAllNear(*adjusted, {0.03, 0.06, 0.06, 0.02}, 1e-15);
  const std::vector<bool> rejected = {true, false, false, true};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*adjusted)[i] <= 0.05, rejected[i]) << i;
}

TEST(HolmAdjustTest, StdlibPadjustExample) {
  // stdlib.io's padjust documentation (holm): [~0.957, 0.804, ~0.957, ~0.957,
  // ~0.565]; equal to R's p.adjust(p, "holm").
  auto adjusted = HolmAdjust({0.319, 0.201, 0.4, 0.374, 0.113});
  ASSERT_TRUE(adjusted.ok());
  ExpectAllNear(*adjusted, {0.957, 0.804, 0.957, 0.957, 0.565}, 1e-12);
}

TEST(HolmAdjustTest, CapsAtOneKeepsTiesAndSkipsNaN) {
  auto capped = HolmAdjust({0.5, 0.6, 0.2});
  ASSERT_TRUE(capped.ok());
  ExpectAllNear(*capped, {1.0, 1.0, 0.6}, 1e-15);
  auto ties = HolmAdjust({0.01, 0.01, 0.01});
  ASSERT_TRUE(ties.ok());
  ExpectAllNear(*ties, {0.03, 0.03, 0.03}, 1e-15);
  // NaN (an undefined test) stays NaN and is not counted: m = 2.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto with_nan = HolmAdjust({0.01, nan, 0.02});
  ASSERT_TRUE(with_nan.ok());
  EXPECT_NEAR((*with_nan)[0], 0.02, 1e-15);
  EXPECT_TRUE(std::isnan((*with_nan)[1]));
  EXPECT_NEAR((*with_nan)[2], 0.02, 1e-15);
  auto empty = HolmAdjust({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HolmAdjustTest, AgreesWithTheStepDownProcedure) {
  // For random families and levels: {i : adjusted_i <= alpha} is exactly
  // the set Holm's sequential procedure rejects; adjusted values are >= the
  // raw ones, <= 1, and keep the raw order.
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int family = 0; family < 200; ++family) {
    const size_t m = 1 + family % 12;
    std::vector<double> p(m);
    for (double& v : p) v = std::pow(unit(rng), 3.0);  // many small p-values
    auto adjusted = HolmAdjust(p);
    ASSERT_TRUE(adjusted.ok());
    for (size_t i = 0; i < m; ++i) {
      EXPECT_GE((*adjusted)[i], p[i]);
      EXPECT_LE((*adjusted)[i], 1.0);
      for (size_t j = 0; j < m; ++j) {
        if (p[i] < p[j]) EXPECT_LE((*adjusted)[i], (*adjusted)[j]);
      }
    }
    std::vector<size_t> order(m);
    for (size_t i = 0; i < m; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
    for (double alpha : {0.001, 0.01, 0.05, 0.1, 0.25}) {
      std::vector<bool> rejected(m, false);
      for (size_t k = 0; k < m; ++k) {  // step down: stop at the first acceptance
        if (!(p[order[k]] <= alpha / static_cast<double>(m - k))) break;
        rejected[order[k]] = true;
      }
      for (size_t i = 0; i < m; ++i) {
        // Away from the boundary (rounding of m·p against alpha).
        if (std::fabs((*adjusted)[i] - alpha) < 1e-12) continue;
        EXPECT_EQ((*adjusted)[i] <= alpha, rejected[i]) << "family " << family << " alpha " << alpha;
      }
    }
  }
}

TEST(HolmAdjustTest, RejectsPValuesOutsideTheUnitInterval) {
  auto high = HolmAdjust({0.1, 1.5});
  ASSERT_FALSE(high.ok());
  EXPECT_EQ(high.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(high.status().message().find("p-value 1 is 1.5"), absl::string_view::npos) << high.status();
  EXPECT_FALSE(HolmAdjust({-0.01}).ok());
}

// ------------------------------------------------------------ UniformIndex

TEST(UniformIndexTest, InRangeAndRoughlyUniform) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(UniformIndex(rng, 1), 0u);
  std::vector<int> counts(7, 0);
  constexpr int kDraws = 70000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t k = UniformIndex(rng, 7);
    ASSERT_LT(k, 7u);
    ++counts[k];
  }
  // Each count is Binomial(70000, 1/7): sd ~ 92; 6 sd is a broken mapping.
  for (int c : counts) EXPECT_NEAR(c, kDraws / 7, 550);
  // A modulus near 2^64 exercises the rejection threshold.
  const uint64_t big = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) EXPECT_LT(UniformIndex(rng, big), big);
}

TEST(UniformIndexTest, SameSeedSameDraws) {
  std::mt19937_64 a(77), b(77);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(UniformIndex(a, 1000003), UniformIndex(b, 1000003));
}

TEST(QuantileTest, SortedQuantileClampsQ) {
  const std::vector<double> v = {1.0, 2.0, 4.0};
  EXPECT_EQ(SortedQuantile(v, -0.5), 1.0);
  EXPECT_EQ(SortedQuantile(v, 1.5), 4.0);
  EXPECT_DOUBLE_EQ(SortedQuantile(v, 0.75), 3.0);
  EXPECT_EQ(SortedQuantile({7.0}, 0.3), 7.0);
}

}  // namespace
}  // namespace dreamshot::core

#include "core/paired_statistics.h"

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

// Student's sleep data (R's `sleep`; Cushny & Peebles 1905): extra hours of
// sleep for ten patients under drug 1 (group 1) and drug 2 (group 2).
const std::vector<double> kSleepGroup1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
const std::vector<double> kSleepGroup2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

// Darwin's Zea mays data as scipy.stats.wilcoxon's documentation gives it:
// height differences between cross- and self-fertilized plants.
const std::vector<double> kCorn = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};

// Hollander & Wolfe (1973, p. 29), R's wilcox.test example: depression
// scale before (x) and after (y) a tranquilizer.
const std::vector<double> kDepressionX = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
const std::vector<double> kDepressionY = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};

// BootstrapMeanInterval(sleep differences, 10000 resamples, seed 0).
constexpr double kSleepGoldenLow = -2.3899999999999997;
constexpr double kSleepGoldenHigh = -0.94999999999999996;

WilcoxonOptions Options(WilcoxonMethod method, bool correction, Alternative alternative) {
  WilcoxonOptions options;
  options.method = method;
  options.correction = correction;
  options.alternative = alternative;
  return options;
}

std::vector<double> Minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

std::vector<double> Negated(std::vector<double> v) {
  for (double& x : v) x = -x;
  return v;
}

// ------------------------------------------------------------- t-test

TEST(PairedTTestTest, SleepDataMatchesR) {
  // R: t.test(extra ~ group, data = sleep, paired = TRUE)
  //   t = -4.0621, df = 9, p-value = 0.002833
  //   95 percent confidence interval: -2.4598858 -0.7001142
  //   mean difference -1.58
  auto t = OneSampleTTest(Minus(kSleepGroup1, kSleepGroup2));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_NEAR(t->t, -4.0621, 5e-5);
  EXPECT_EQ(t->df, 9.0);
  EXPECT_NEAR(t->p, 0.002833, 5e-7);
  EXPECT_NEAR(t->mean, -1.58, 1e-12);
  EXPECT_NEAR(t->ci_low, -2.4598858, 5e-8);
  EXPECT_NEAR(t->ci_high, -0.7001142, 5e-8);
  // The same at full precision (mpmath, 30 digits, from the textbook
  // formulas on the double differences).
  EXPECT_NEAR(t->t, -4.0621276833820365, 1e-13);
  EXPECT_NEAR(t->p, 0.0028328901973842710, 1e-15);
}

TEST(PairedTTestTest, OneSidedAlternatives) {
  const std::vector<double> d = Minus(kSleepGroup1, kSleepGroup2);
  auto less = OneSampleTTest(d, Alternative::kLess);
  auto greater = OneSampleTTest(d, Alternative::kGreater);
  ASSERT_TRUE(less.ok() && greater.ok());
  EXPECT_NEAR(less->p, 0.0028328901973842710 / 2, 1e-15);
  EXPECT_NEAR(greater->p, 1.0 - 0.0028328901973842710 / 2, 1e-14);
}

TEST(PairedTTestTest, ConstantDifferencesAsScipy) {
  auto shifted = OneSampleTTest({0.5, 0.5, 0.5});
  ASSERT_TRUE(shifted.ok());
  EXPECT_EQ(shifted->t, std::numeric_limits<double>::infinity());
  EXPECT_EQ(shifted->p, 0.0);
  auto zero = OneSampleTTest({0.0, 0.0, 0.0});
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(std::isnan(zero->t));
  EXPECT_TRUE(std::isnan(zero->p));
}

TEST(PairedTTestTest, Errors) {
  EXPECT_EQ(OneSampleTTest({1.0}).status().code(), absl::StatusCode::kInvalidArgument);
  auto nan = OneSampleTTest({1.0, std::nan("")});
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("d[1]"), absl::string_view::npos) << nan.status();
  EXPECT_FALSE(OneSampleTTest({1.0, 2.0}, Alternative::kTwoSided, 1.0).ok());
}

// ------------------------------------------------- Wilcoxon signed-rank

TEST(WilcoxonTest, ScipyDocumentedCornExample) {
  // scipy.stats.wilcoxon docs (scipy >= 1.9): wilcoxon(d) -> (24.0,
  // 0.041259765625); alternative='greater' -> (96.0, 0.0206298828125), both
  // exact; method='asymptotic' -> (24.0, 0.04088813291185591).
  auto two_sided = WilcoxonSignedRank(kCorn);
  ASSERT_TRUE(two_sided.ok()) << two_sided.status();
  EXPECT_EQ(two_sided->method, WilcoxonMethod::kExact);
  EXPECT_EQ(two_sided->statistic, 24.0);
  EXPECT_EQ(two_sided->r_plus, 96.0);
  EXPECT_EQ(two_sided->r_minus, 24.0);
  EXPECT_EQ(two_sided->p, 0.041259765625);  // 1352 / 32768, exact in double
  EXPECT_TRUE(std::isnan(two_sided->z));

  auto greater = WilcoxonSignedRank(kCorn, Options(WilcoxonMethod::kAuto, false, Alternative::kGreater));
  ASSERT_TRUE(greater.ok());
  EXPECT_EQ(greater->statistic, 96.0);
  EXPECT_EQ(greater->p, 0.0206298828125);

  auto asymptotic = WilcoxonSignedRank(kCorn, Options(WilcoxonMethod::kAsymptotic, false, Alternative::kTwoSided));
  ASSERT_TRUE(asymptotic.ok());
  EXPECT_EQ(asymptotic->statistic, 24.0);
  EXPECT_NEAR(asymptotic->p, 0.04088813291185591, 1e-15);
  EXPECT_NEAR(asymptotic->z, -2.0446626032894333, 1e-14);
  // Older scipy (<= 1.5, normal approximation only) documents the
  // one-sided value 0.020444066455927955.
  auto asymptotic_greater =
      WilcoxonSignedRank(kCorn, Options(WilcoxonMethod::kAsymptotic, false, Alternative::kGreater));
  ASSERT_TRUE(asymptotic_greater.ok());
  EXPECT_NEAR(asymptotic_greater->p, 0.020444066455927955, 1e-15);
  // With the continuity correction (mpmath from the formula).
  auto corrected = WilcoxonSignedRank(kCorn, Options(WilcoxonMethod::kAsymptotic, true, Alternative::kTwoSided));
  ASSERT_TRUE(corrected.ok());
  EXPECT_NEAR(corrected->p, 0.04377232376304117, 1e-15);
}

TEST(WilcoxonTest, SleepDataMatchesRWithContinuityCorrection) {
  // R: wilcox.test(extra ~ group, data = sleep, paired = TRUE)
  //   V = 0, p-value = 0.009091 (normal approximation: a tie and a zero;
  //   R always corrects for continuity).
  const std::vector<double> d = Minus(kSleepGroup1, kSleepGroup2);
  auto r = WilcoxonSignedRank(d, Options(WilcoxonMethod::kAsymptotic, true, Alternative::kTwoSided));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->r_plus, 0.0);  // R's V
  EXPECT_EQ(r->r_minus, 45.0);
  EXPECT_EQ(r->zeros, 1);
  EXPECT_TRUE(r->ties);
  EXPECT_NEAR(r->p, 0.009091, 5e-7);
  EXPECT_NEAR(r->p, 0.0090906980159250620, 1e-15);  // mpmath

  // Without the correction (scipy's default normal approximation, which is
  // what scipy 1.9-1.14 returned by default here): z = -22.5 / sqrt(71.125).
  auto plain = WilcoxonSignedRank(d, Options(WilcoxonMethod::kAsymptotic, false, Alternative::kTwoSided));
  ASSERT_TRUE(plain.ok());
  EXPECT_NEAR(plain->z, -2.6679112502793850, 1e-14);
  EXPECT_NEAR(plain->p, 0.0076324416482055266, 1e-15);

  // The default (scipy >= 1.15): ties and a zero with n = 10 <= 13, so the
  // exact distribution given the ranks; R+ = 0 only when all nine non-zero
  // differences are negative: 2 * 2^-9.
  auto automatic = WilcoxonSignedRank(d);
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->method, WilcoxonMethod::kExact);
  EXPECT_EQ(automatic->statistic, 0.0);
  EXPECT_EQ(automatic->p, 0.00390625);
}

TEST(WilcoxonTest, HollanderWolfeDepressionMatchesR) {
  // R: wilcox.test(x, y, paired = TRUE, alternative = "greater")
  //   V = 40, p-value = 0.01953 (exact: 10 / 512).
  auto r = WilcoxonSignedRank(Minus(kDepressionX, kDepressionY),
                              Options(WilcoxonMethod::kAuto, false, Alternative::kGreater));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, WilcoxonMethod::kExact);
  EXPECT_EQ(r->statistic, 40.0);
  EXPECT_EQ(r->p, 0.01953125);
  auto two_sided = WilcoxonSignedRank(Minus(kDepressionX, kDepressionY));
  ASSERT_TRUE(two_sided.ok());
  EXPECT_EQ(two_sided->statistic, 5.0);
  EXPECT_EQ(two_sided->p, 0.0390625);
}

TEST(WilcoxonTest, ScipyRoundoffExample) {
  // scipy docs: x - y for these x, y separates ties by rounding:
  // wilcoxon(x, y, alternative='greater') -> (5.0, 0.5625), while the
  // rounded differences [-0.025, 0.05, 0.05, -0.05] give (6.0, 0.5).
  const std::vector<double> x = {0.5, 0.825, 0.375, 0.5};
  const std::vector<double> y = {0.525, 0.775, 0.325, 0.55};
  auto separated = WilcoxonSignedRank(Minus(x, y), Options(WilcoxonMethod::kAuto, false, Alternative::kGreater));
  ASSERT_TRUE(separated.ok());
  EXPECT_FALSE(separated->ties);
  EXPECT_EQ(separated->statistic, 5.0);
  EXPECT_EQ(separated->p, 0.5625);
  auto tied =
      WilcoxonSignedRank({-0.025, 0.05, 0.05, -0.05}, Options(WilcoxonMethod::kAuto, false, Alternative::kGreater));
  ASSERT_TRUE(tied.ok());
  EXPECT_TRUE(tied->ties);
  EXPECT_EQ(tied->statistic, 6.0);
  EXPECT_EQ(tied->p, 0.5);
}

// Brute force: P(R+ <= r) and P(R+ >= r) over all 2^n sign assignments of
// the non-zero |d|'s average ranks.
std::pair<double, double> EnumeratedTails(const std::vector<double>& d, double r_plus) {
  std::vector<double> nonzero;
  for (double v : d) {
    if (v != 0.0) nonzero.push_back(std::fabs(v));
  }
  std::vector<double> ranks(nonzero.size());
  for (size_t i = 0; i < nonzero.size(); ++i) {
    double below = 0, equal = 0;
    for (double w : nonzero) {
      below += w < nonzero[i];
      equal += w == nonzero[i];
    }
    ranks[i] = below + (equal + 1) / 2;
  }
  const uint64_t total = uint64_t{1} << nonzero.size();
  uint64_t lower = 0, upper = 0;
  for (uint64_t mask = 0; mask < total; ++mask) {
    double sum = 0;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (mask >> i & 1) sum += ranks[i];
    }
    lower += sum <= r_plus;
    upper += sum >= r_plus;
  }
  return {static_cast<double>(lower) / total, static_cast<double>(upper) / total};
}

TEST(WilcoxonTest, ExactDistributionAgreesWithEnumeration) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> value(-4, 4);  // many ties and zeros
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<double> d(1 + trial % 13);
    for (double& v : d) v = value(rng);
    for (Alternative alternative : {Alternative::kTwoSided, Alternative::kLess, Alternative::kGreater}) {
      auto r = WilcoxonSignedRank(d, Options(WilcoxonMethod::kExact, false, alternative));
      ASSERT_TRUE(r.ok());
      const auto [lower, upper] = EnumeratedTails(d, r->r_plus);
      const double expected = alternative == Alternative::kLess      ? lower
                              : alternative == Alternative::kGreater ? upper
                                                                     : std::min(1.0, 2 * std::min(lower, upper));
      EXPECT_EQ(r->p, expected) << "trial " << trial;
    }
  }
}

TEST(WilcoxonTest, AutoFollowsScipy115) {
  auto distinct = [](int n) {
    std::vector<double> d(n);
    for (int i = 0; i < n; ++i) d[i] = (i % 3 == 0 ? -1.0 : 1.0) * (i + 1);
    return d;
  };
  // No ties or zeros: exact up to 50 differences, normal above.
  EXPECT_EQ(WilcoxonSignedRank(distinct(50))->method, WilcoxonMethod::kExact);
  EXPECT_EQ(WilcoxonSignedRank(distinct(51))->method, WilcoxonMethod::kAsymptotic);
  // A tie (or a zero): exact up to 13 differences, zeros counted.
  std::vector<double> tied13 = distinct(13);
  tied13[1] = tied13[2];
  EXPECT_EQ(WilcoxonSignedRank(tied13)->method, WilcoxonMethod::kExact);
  std::vector<double> tied14 = distinct(14);
  tied14[1] = tied14[2];
  EXPECT_EQ(WilcoxonSignedRank(tied14)->method, WilcoxonMethod::kAsymptotic);
  std::vector<double> zero14 = distinct(14);
  zero14[5] = 0.0;
  auto z = WilcoxonSignedRank(zero14);
  EXPECT_EQ(z->method, WilcoxonMethod::kAsymptotic);
  EXPECT_EQ(z->zeros, 1);
  std::vector<double> zero13 = distinct(13);
  zero13[5] = 0.0;
  EXPECT_EQ(WilcoxonSignedRank(zero13)->method, WilcoxonMethod::kExact);
}

TEST(WilcoxonTest, ExactAndNormalAgreeForFifty) {
  // At n = 50 the normal approximation is close to the exact distribution.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.3, 1.0);
  std::vector<double> d(50);
  for (double& v : d) v = normal(rng);
  auto exact = WilcoxonSignedRank(d, Options(WilcoxonMethod::kExact, false, Alternative::kTwoSided));
  auto normal_p = WilcoxonSignedRank(d, Options(WilcoxonMethod::kAsymptotic, true, Alternative::kTwoSided));
  ASSERT_TRUE(exact.ok() && normal_p.ok());
  EXPECT_NEAR(exact->p, normal_p->p, 0.01 + 0.05 * exact->p);
}

TEST(WilcoxonTest, MirroredDifferencesSwapTheRankSums) {
  const std::vector<double> d = Minus(kSleepGroup1, kSleepGroup2);
  for (WilcoxonMethod method : {WilcoxonMethod::kExact, WilcoxonMethod::kAsymptotic}) {
    auto r = WilcoxonSignedRank(d, Options(method, false, Alternative::kTwoSided));
    auto m = WilcoxonSignedRank(Negated(d), Options(method, false, Alternative::kTwoSided));
    ASSERT_TRUE(r.ok() && m.ok());
    EXPECT_EQ(r->r_plus, m->r_minus);
    EXPECT_EQ(r->statistic, m->statistic);
    EXPECT_DOUBLE_EQ(r->p, m->p);
  }
}

TEST(WilcoxonTest, AllZeroDifferencesAndErrors) {
  auto zeros = WilcoxonSignedRank({0.0, 0.0, 0.0});
  ASSERT_TRUE(zeros.ok());
  EXPECT_EQ(zeros->statistic, 0.0);
  EXPECT_EQ(zeros->p, 1.0);
  EXPECT_EQ(zeros->zeros, 3);
  EXPECT_EQ(WilcoxonSignedRank({}).status().code(), absl::StatusCode::kInvalidArgument);
  auto inf = WilcoxonSignedRank({1.0, std::numeric_limits<double>::infinity()});
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.status().message().find("d[1]"), absl::string_view::npos);
  std::vector<double> big(kMaxExactWilcoxon + 1);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i + 1);
  EXPECT_FALSE(WilcoxonSignedRank(big, Options(WilcoxonMethod::kExact, false, Alternative::kTwoSided)).ok());
  EXPECT_TRUE(WilcoxonSignedRank(big).ok());  // auto: normal approximation
}

// -------------------------------------------------------------- bootstrap

TEST(BootstrapMeanIntervalTest, DeterministicGivenTheSeed) {
  const std::vector<double> d = Minus(kSleepGroup1, kSleepGroup2);
  auto first = BootstrapMeanInterval(d, 10000, 42);
  auto again = BootstrapMeanInterval(d, 10000, 42);
  auto other = BootstrapMeanInterval(d, 10000, 43);
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(first->low, again->low);
  EXPECT_EQ(first->high, again->high);
  EXPECT_TRUE(first->low != other->low || first->high != other->high);
}

TEST(BootstrapMeanIntervalTest, GoldenValuesForTheSleepData) {
  // Pinned so that a change of the draws (generator, index mapping,
  // summation order or quantile rule) cannot pass unnoticed: these are the
  // values every platform must reproduce for seed 0.
  auto ci = BootstrapMeanInterval(Minus(kSleepGroup1, kSleepGroup2), 10000, 0);
  ASSERT_TRUE(ci.ok());
  EXPECT_EQ(ci->low, kSleepGoldenLow);
  EXPECT_EQ(ci->high, kSleepGoldenHigh);
}

TEST(BootstrapMeanIntervalTest, ContainsTheMeanAndMatchesNormalTheory) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> normal(0.005, 0.03);  // CLIP-score-sized differences
  for (int n : {20, 500}) {
    std::vector<double> d(n);
    for (double& v : d) v = normal(rng);
    double mean = 0;
    for (double v : d) mean += v / n;
    double squares = 0;
    for (double v : d) squares += (v - mean) * (v - mean);
    auto ci = BootstrapMeanInterval(d, 10000, 1);
    ASSERT_TRUE(ci.ok());
    EXPECT_LT(ci->low, mean);
    EXPECT_GT(ci->high, mean);
    // For normal data the percentile interval is close to mean ± 1.96 ·
    // sd / sqrt(n), with the plug-in sd (divisor n) the bootstrap resamples.
    const double width = 2 * 1.959963984540054 * std::sqrt(squares / n) / std::sqrt(static_cast<double>(n));
    EXPECT_NEAR(ci->high - ci->low, width, 0.1 * width) << n;
    EXPECT_NEAR((ci->low + ci->high) / 2, mean, 0.1 * width) << n;
  }
}

TEST(BootstrapMeanIntervalTest, MirroredDifferencesMirrorTheInterval) {
  const std::vector<double> d = Minus(kSleepGroup1, kSleepGroup2);
  auto ci = BootstrapMeanInterval(d, 5000, 9, 0.9);
  auto mirrored = BootstrapMeanInterval(Negated(d), 5000, 9, 0.9);
  ASSERT_TRUE(ci.ok() && mirrored.ok());
  EXPECT_NEAR(mirrored->low, -ci->high, 1e-12);
  EXPECT_NEAR(mirrored->high, -ci->low, 1e-12);
}

TEST(BootstrapMeanIntervalTest, Errors) {
  EXPECT_FALSE(BootstrapMeanInterval({}, 100, 0).ok());
  EXPECT_FALSE(BootstrapMeanInterval({1.0, 2.0}, 0, 0).ok());
  EXPECT_FALSE(BootstrapMeanInterval({1.0, 2.0}, kMaxBootstrapResamples + 1, 0).ok());
  EXPECT_FALSE(BootstrapMeanInterval({1.0, 2.0}, 100, 0, 0.0).ok());
  EXPECT_FALSE(BootstrapMeanInterval({1.0, std::nan("")}, 100, 0).ok());
}

// ---------------------------------------------------------- ComparePaired

TEST(ComparePairedTest, SleepDataEndToEnd) {
  auto c = ComparePaired(kSleepGroup1, kSleepGroup2);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->n, 10);
  EXPECT_NEAR(c->mean_a, 0.75, 1e-12);
  EXPECT_NEAR(c->mean_b, 2.33, 1e-12);
  EXPECT_NEAR(c->mean_difference, -1.58, 1e-12);
  EXPECT_NEAR(c->sd_difference, 1.2299954832798731, 1e-14);
  EXPECT_NEAR(c->t_test.t, -4.0621, 5e-5);
  EXPECT_NEAR(c->t_test.p, 0.002833, 5e-7);
  EXPECT_EQ(c->wilcoxon.statistic, 0.0);
  EXPECT_EQ(c->wilcoxon.p, 0.00390625);
  // d_z = mean / sd = t / sqrt(n).
  EXPECT_NEAR(c->cohens_dz, -1.2845575625910546, 1e-13);
  EXPECT_NEAR(c->cohens_dz, c->t_test.t / std::sqrt(10.0), 1e-13);
  EXPECT_LT(c->bootstrap.low, c->mean_difference);
  EXPECT_GT(c->bootstrap.high, c->mean_difference);
  EXPECT_LT(c->bootstrap.high, 0.0);  // every difference but one is negative
  auto ci = BootstrapMeanInterval(Minus(kSleepGroup1, kSleepGroup2), 10000, 0);
  EXPECT_EQ(c->bootstrap.low, ci->low);  // defaults: 10,000 resamples, seed 0
}

TEST(ComparePairedTest, SwappingTheSystemsMirrorsEverything) {
  PairedOptions options;
  options.seed = 5;
  auto ab = ComparePaired(kDepressionX, kDepressionY, options);
  auto ba = ComparePaired(kDepressionY, kDepressionX, options);
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(ab->mean_difference, -ba->mean_difference);
  EXPECT_EQ(ab->t_test.t, -ba->t_test.t);
  EXPECT_EQ(ab->t_test.p, ba->t_test.p);
  EXPECT_EQ(ab->wilcoxon.statistic, ba->wilcoxon.statistic);
  EXPECT_EQ(ab->wilcoxon.p, ba->wilcoxon.p);
  EXPECT_EQ(ab->cohens_dz, -ba->cohens_dz);
  EXPECT_NEAR(ab->bootstrap.low, -ba->bootstrap.high, 1e-12);
}

TEST(ComparePairedTest, IdenticalSystems) {
  // Nothing to compare: the t statistic and d_z are 0/0 (NaN, as scipy),
  // the Wilcoxon test has no non-zero difference (p = 1), the interval is
  // the point 0.
  const std::vector<double> scores = {0.31, 0.29, 0.35, 0.33};
  auto c = ComparePaired(scores, scores);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->mean_difference, 0.0);
  EXPECT_TRUE(std::isnan(c->t_test.t));
  EXPECT_TRUE(std::isnan(c->t_test.p));
  EXPECT_TRUE(std::isnan(c->cohens_dz));
  EXPECT_EQ(c->wilcoxon.p, 1.0);
  EXPECT_EQ(c->wilcoxon.zeros, 4);
  EXPECT_EQ(c->bootstrap.low, 0.0);
  EXPECT_EQ(c->bootstrap.high, 0.0);
}

TEST(ComparePairedTest, ErrorsNameTheProblem) {
  auto lengths = ComparePaired({1.0, 2.0, 3.0}, {1.0, 2.0});
  ASSERT_FALSE(lengths.ok());
  EXPECT_NE(lengths.status().message().find("a has 3 values and b has 2"), absl::string_view::npos) << lengths.status();
  auto one = ComparePaired({1.0}, {2.0});
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("at least 2 pairs, got 1"), absl::string_view::npos) << one.status();
  auto nan = ComparePaired({1.0, 2.0}, {1.0, std::nan("")});
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("b[1] is not finite"), absl::string_view::npos) << nan.status();
  PairedOptions bad;
  bad.confidence = 1.5;
  EXPECT_FALSE(ComparePaired({1.0, 2.0}, {2.0, 2.5}, bad).ok());
}

TEST(ParseNamesTest, RoundTrip) {
  for (WilcoxonMethod m : {WilcoxonMethod::kAuto, WilcoxonMethod::kExact, WilcoxonMethod::kAsymptotic}) {
    EXPECT_EQ(*ParseWilcoxonMethod(WilcoxonMethodName(m)), m);
  }
  for (Alternative a : {Alternative::kTwoSided, Alternative::kLess, Alternative::kGreater}) {
    EXPECT_EQ(*ParseAlternative(AlternativeName(a)), a);
  }
  EXPECT_FALSE(ParseWilcoxonMethod("approx").ok());
  EXPECT_FALSE(ParseAlternative("both").ok());
}

}  // namespace
}  // namespace dreamshot::core

#include "survey/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace dreamshot::survey {
namespace {

// ------------------------------------------------------------- sign test

// Independent reference: 2 * P(X <= min(a, b)) for Binomial(a + b, 1/2),
// summed in log space with lgamma, capped at 1.
double ReferenceSignTest(int64_t a, int64_t b) {
  const int64_t n = a + b;
  const int64_t m = std::min(a, b);
  auto log_pmf = [&](int64_t i) {
    return std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0);
  };
  const double top = log_pmf(m);  // the largest term of the lower tail
  double sum = 0.0;
  for (int64_t i = 0; i <= m; ++i) sum += std::exp(log_pmf(i) - top);
  return std::min(1.0, 2.0 * std::exp(top + std::log(sum)));
}

TEST(SignTestTest, KnownValues) {
  EXPECT_NEAR(SignTestPValue(9, 1), 0.021484375, 1e-15);  // 2 * 11 / 1024
  EXPECT_NEAR(SignTestPValue(1, 9), 0.021484375, 1e-15);
  EXPECT_EQ(SignTestPValue(0, 0), 1.0);
  EXPECT_EQ(SignTestPValue(5, 5), 1.0);
  EXPECT_EQ(SignTestPValue(1, 0), 1.0);  // 2 * 0.5, capped
  EXPECT_NEAR(SignTestPValue(10, 0), 2.0 / 1024.0, 1e-15);
  // Exact rational sum in Python: 0.0022214337732293643.
  EXPECT_NEAR(SignTestPValue(30, 10), 0.0022214337732293643, 1e-15);
}

TEST(SignTestTest, LargeNIsStable) {
  // Exact rational sum in Python: 0.04658552770494739.
  EXPECT_NEAR(SignTestPValue(5100, 4900), 0.04658552770494739, 1e-12);
  for (const auto& [a, b] :
       std::vector<std::pair<int64_t, int64_t>>{{5100, 4900}, {50300, 49700}, {49000, 51000}, {123, 456}}) {
    const double p = SignTestPValue(a, b);
    EXPECT_NEAR(p, ReferenceSignTest(a, b), 1e-9 * ReferenceSignTest(a, b)) << a << " vs " << b;
    EXPECT_EQ(p, SignTestPValue(b, a));
  }
  const double tiny = SignTestPValue(60000, 40000);
  EXPECT_GE(tiny, 0.0);
  EXPECT_LT(tiny, 1e-300);
  EXPECT_EQ(SignTestPValue(50000, 50000), 1.0);
  EXPECT_TRUE(std::isnan(SignTestPValue(-1, 3)));
}

// ------------------------------------------------------------- bootstrap

// A uniform double in [0, 1) from the top 53 bits, so the simulated data are
// the same on every platform.
double UniformDouble(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

TEST(BootstrapSharesTest, PointEstimatesArePooledShares) {
  const std::vector<std::vector<int>> answers = {{0, 1, 1, 2}, {1, 1}, {}, {2, 0, 1}};
  auto shares = BootstrapShares(answers, 3, 2000, 7);
  ASSERT_TRUE(shares.ok()) << shares.status();
  ASSERT_EQ(shares->size(), 3u);
  EXPECT_DOUBLE_EQ((*shares)[0].value, 2.0 / 9.0);
  EXPECT_DOUBLE_EQ((*shares)[1].value, 5.0 / 9.0);
  EXPECT_DOUBLE_EQ((*shares)[2].value, 2.0 / 9.0);
  for (const Proportion& p : *shares) {
    EXPECT_GE(p.low, 0.0);
    EXPECT_LE(p.low, p.value);
    EXPECT_GE(p.high, p.value);
    EXPECT_LE(p.high, 1.0);
    EXPECT_LT(p.low, p.high);
  }
}

TEST(BootstrapSharesTest, SameSeedSameResultOtherSeedDiffers) {
  std::vector<std::vector<int>> answers;
  std::mt19937_64 gen(1);
  for (int p = 0; p < 30; ++p) {
    std::vector<int> a;
    for (int q = 0; q < 8; ++q) a.push_back(static_cast<int>(gen() % 3));
    answers.push_back(a);
  }
  auto first = BootstrapShares(answers, 3, 1000, 99);
  auto again = BootstrapShares(answers, 3, 1000, 99);
  auto other = BootstrapShares(answers, 3, 1000, 100);
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  bool any_difference = false;
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ((*first)[j].low, (*again)[j].low);
    EXPECT_EQ((*first)[j].high, (*again)[j].high);
    any_difference |= (*first)[j].low != (*other)[j].low || (*first)[j].high != (*other)[j].high;
  }
  EXPECT_TRUE(any_difference);
}

// Pins the draws: published survey intervals must be recomputable from the
// stored answers and seed, on any platform and after refactors. Changing the
// resampling scheme on purpose means updating these numbers. An independent
// Python reimplementation (mt19937_64 + the rejection draw + type-7
// quantiles) reproduces them to the last few ulps (it computes the quantile
// position from 0.025 rather than (1 - 0.95) / 2).
TEST(BootstrapSharesTest, GoldenValues) {
  const std::vector<std::vector<int>> answers = {{0, 0, 1}, {1, 1, 2}, {0}, {2, 2, 1, 0}, {1}, {0, 1}};
  auto shares = BootstrapShares(answers, 3, 1000, 42);
  ASSERT_TRUE(shares.ok());
  EXPECT_DOUBLE_EQ((*shares)[0].low, 0.14261904761904784);
  EXPECT_DOUBLE_EQ((*shares)[0].high, 0.62528409090909065);
  EXPECT_DOUBLE_EQ((*shares)[1].low, 0.25);
  EXPECT_DOUBLE_EQ((*shares)[1].high, 0.63636363636363635);
  EXPECT_DOUBLE_EQ((*shares)[2].low, 0.0);
  EXPECT_DOUBLE_EQ((*shares)[2].high, 0.375);
}

TEST(BootstrapSharesTest, EmptyParticipantsDoNotChangeTheResult) {
  const std::vector<std::vector<int>> answers = {{0, 1}, {1}, {1, 1, 0}};
  const std::vector<std::vector<int>> padded = {{}, {0, 1}, {}, {1}, {}, {1, 1, 0}, {}};
  auto a = BootstrapShares(answers, 2, 500, 3);
  auto b = BootstrapShares(padded, 2, 500, 3);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t j = 0; j < 2; ++j) {
    EXPECT_EQ((*a)[j].value, (*b)[j].value);
    EXPECT_EQ((*a)[j].low, (*b)[j].low);
    EXPECT_EQ((*a)[j].high, (*b)[j].high);
  }
}

TEST(BootstrapSharesTest, OneParticipantOrNoAnswers) {
  auto one = BootstrapShares({{0, 1, 1, 1}}, 2, 100, 5);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[1].value, 0.75);
  EXPECT_EQ((*one)[1].low, 0.75);  // every replicate is the same person
  EXPECT_EQ((*one)[1].high, 0.75);
  auto none = BootstrapShares({{}, {}}, 3, 100, 5);
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->size(), 3u);
  for (const Proportion& p : *none) {
    EXPECT_EQ(p.value, 0.0);
    EXPECT_EQ(p.low, 0.0);
    EXPECT_EQ(p.high, 0.0);
  }
}

// The reason to resample participants: 100 votes from 10 people who each
// always pick the same side carry far less information than 100 votes from
// 100 people, and the interval must show it.
TEST(BootstrapSharesTest, CorrelatedAnswersGiveWiderIntervals) {
  std::vector<std::vector<int>> clustered;
  for (int p = 0; p < 10; ++p) clustered.push_back(std::vector<int>(10, p % 2));
  std::vector<std::vector<int>> independent;
  for (int p = 0; p < 100; ++p) independent.push_back({p % 2});

  auto c = BootstrapShares(clustered, 2, 4000, 11);
  auto i = BootstrapShares(independent, 2, 4000, 11);
  ASSERT_TRUE(c.ok() && i.ok());
  EXPECT_EQ((*c)[0].value, 0.5);
  EXPECT_EQ((*i)[0].value, 0.5);
  const double clustered_width = (*c)[0].high - (*c)[0].low;
  const double independent_width = (*i)[0].high - (*i)[0].low;
  // Independent: about 2 * 1.96 * sqrt(0.25 / 100) = 0.196.
  EXPECT_NEAR(independent_width, 0.196, 0.03);
  // Clustered: the effective sample is 10 people, about 0.62.
  EXPECT_GT(clustered_width, 2.5 * independent_width);
}

// With heterogeneous participants (ICC ~ 0.3, design effect ~ 3.7) a 95%
// participant bootstrap should cover the true share about 95% of the time;
// resampling single answers would cover only ~70%.
TEST(BootstrapSharesTest, CoverageIsNearNominal) {
  std::mt19937_64 gen(2024);
  const double true_share = 0.3;  // mean of the two participant types
  const int surveys = 200;
  int covered = 0;
  for (int s = 0; s < surveys; ++s) {
    std::vector<std::vector<int>> answers;
    for (int p = 0; p < 40; ++p) {
      const double share = UniformDouble(gen) < 0.5 ? 0.05 : 0.55;
      std::vector<int> a;
      for (int q = 0; q < 10; ++q) a.push_back(UniformDouble(gen) < share ? 0 : 1);
      answers.push_back(a);
    }
    auto result = BootstrapShares(answers, 2, 1000, 1000 + s);
    ASSERT_TRUE(result.ok());
    if ((*result)[0].low <= true_share && true_share <= (*result)[0].high) {
      ++covered;
    }
  }
  const double coverage = static_cast<double>(covered) / surveys;
  EXPECT_GE(coverage, 0.88);
  EXPECT_LE(coverage, 0.99);
}

TEST(BootstrapSharesTest, LevelControlsWidth) {
  std::vector<std::vector<int>> answers;
  for (int p = 0; p < 50; ++p) answers.push_back({p % 3, (p / 3) % 3});
  auto narrow = BootstrapShares(answers, 3, 2000, 1, 0.5);
  auto wide = BootstrapShares(answers, 3, 2000, 1, 0.99);
  ASSERT_TRUE(narrow.ok() && wide.ok());
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_LT((*narrow)[j].high - (*narrow)[j].low, (*wide)[j].high - (*wide)[j].low);
  }
}

TEST(BootstrapSharesTest, RejectsInvalidArguments) {
  const std::vector<std::vector<int>> ok = {{0, 1}};
  EXPECT_EQ(BootstrapShares(ok, 0, 10, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BootstrapShares({{0, 2}}, 2, 10, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BootstrapShares({{-1}}, 2, 10, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BootstrapShares(ok, 2, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  for (double level : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    EXPECT_EQ(BootstrapShares(ok, 2, 10, 1, level).status().code(), absl::StatusCode::kInvalidArgument) << level;
  }
  const auto status = BootstrapShares({{0}, {1, 5}}, 2, 10, 1).status();
  EXPECT_NE(status.message().find("participant 1 answer 1"), absl::string_view::npos) << status;
}

// ----------------------------------------------------------- Fleiss kappa

TEST(FleissKappaTest, WikipediaExample) {
  // https://en.wikipedia.org/wiki/Fleiss%27_kappa#Worked_example:
  // 10 items, 14 raters, 5 categories; P̄ = 0.378, P̄e = 0.213, κ = 0.210.
  const std::vector<std::vector<int64_t>> counts = {{0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0},
                                                    {2, 2, 8, 1, 1},  {7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2},
                                                    {6, 5, 2, 1, 0},  {0, 2, 2, 3, 7}};
  auto kappa = FleissKappa(counts);
  ASSERT_TRUE(kappa.ok()) << kappa.status();
  EXPECT_NEAR(*kappa, 0.210, 5e-4);
  EXPECT_NEAR(*kappa, 0.20993070442195522, 1e-12);  // exact, from Python
}

TEST(FleissKappaTest, VaryingRatersPerItem) {
  // Kept items: n = 2, 3, 4 with P_i = 1, 1/3, 1 -> P̄ = 7/9. Shares
  // (3, 6) / 9 -> P̄e = 5/9. κ = (7/9 - 5/9) / (4/9) = 1/2. The single-rating
  // item {1, 0} must not enter the shares (that would give 0.537).
  auto kappa = FleissKappa({{2, 0}, {1, 2}, {0, 4}, {1, 0}, {0, 0}});
  ASSERT_TRUE(kappa.ok()) << kappa.status();
  EXPECT_NEAR(*kappa, 0.5, 1e-12);
}

TEST(FleissKappaTest, PerfectAndChanceAgreement) {
  auto perfect = FleissKappa({{3, 0}, {0, 3}, {0, 5}});
  ASSERT_TRUE(perfect.ok());
  EXPECT_NEAR(*perfect, 1.0, 1e-12);
  // Every item split evenly between two raters: P̄ = 0, P̄e = 1/2, κ = -1.
  auto opposed = FleissKappa({{1, 1}, {1, 1}});
  ASSERT_TRUE(opposed.ok());
  EXPECT_NEAR(*opposed, -1.0, 1e-12);
}

TEST(FleissKappaTest, Errors) {
  EXPECT_EQ(FleissKappa({}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FleissKappa({{1, 0}, {0, 1}}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FleissKappa({{4, 0}, {2, 0}}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FleissKappa({{}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FleissKappa({{1, 1}, {1, 1, 0}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FleissKappa({{3, -1}}).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------- Bradley–Terry

TEST(BradleyTerryTest, TwoSystemsOddsAreTheWinRatio) {
  auto pi = BradleyTerryStrengths(2, {{0, 1, 30, 10}});
  ASSERT_TRUE(pi.ok()) << pi.status();
  EXPECT_NEAR((*pi)[0] / (*pi)[1], 3.0, 1e-8);
  EXPECT_NEAR((*pi)[0] * (*pi)[1], 1.0, 1e-12);  // geometric mean 1
  EXPECT_NEAR((*pi)[0], std::sqrt(3.0), 1e-8);
}

TEST(BradleyTerryTest, EntriesForOnePairAddUpInEitherOrder) {
  // 30 vs 10 split over entries, one of them listed as (b, a); plus 20 ties
  // as half a win each -> 40 vs 20.
  auto pi = BradleyTerryStrengths(2, {{0, 1, 20, 5}, {1, 0, 5, 10}, {0, 1, 10, 10}});
  ASSERT_TRUE(pi.ok()) << pi.status();
  EXPECT_NEAR((*pi)[0] / (*pi)[1], 2.0, 1e-8);
}

TEST(BradleyTerryTest, ThreeSystemsKnownSolution) {
  // Outcomes exactly as expected under strengths 1 : 2 : 4 (e.g. 0 vs 2 in 50
  // games: 50 / 5 = 10 vs 40), so those strengths solve the likelihood
  // equations W_i = Σ_j n_ij π_i / (π_i + π_j); the MLE is unique, and with
  // geometric mean 1 it is (0.5, 1, 2).
  auto pi = BradleyTerryStrengths(3, {{0, 1, 10, 20}, {1, 2, 10, 20}, {0, 2, 10, 40}});
  ASSERT_TRUE(pi.ok()) << pi.status();
  EXPECT_NEAR((*pi)[0], 0.5, 1e-8);
  EXPECT_NEAR((*pi)[1], 1.0, 1e-8);
  EXPECT_NEAR((*pi)[2], 2.0, 1e-8);
}

TEST(BradleyTerryTest, SolvesLikelihoodEquationsOnIntransitiveData) {
  // 0 beats 1, 1 beats 2, 2 beats 0 (mostly), 3 compared with 0 only.
  const std::vector<Comparison> comparisons = {{0, 1, 14, 6}, {1, 2, 12, 3}, {2, 0, 9, 7}, {3, 0, 2.5, 4.5}};
  auto pi = BradleyTerryStrengths(4, comparisons);
  ASSERT_TRUE(pi.ok()) << pi.status();
  double wins[4] = {0, 0, 0, 0};
  double expected[4] = {0, 0, 0, 0};
  double log_sum = 0.0;
  for (const Comparison& c : comparisons) {
    wins[c.a] += c.wins_a;
    wins[c.b] += c.wins_b;
    const double n = c.wins_a + c.wins_b;
    const double pa = (*pi)[c.a], pb = (*pi)[c.b];
    expected[c.a] += n * pa / (pa + pb);
    expected[c.b] += n * pb / (pa + pb);
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(expected[i], wins[i], 1e-7) << i;
    log_sum += std::log((*pi)[i]);
  }
  EXPECT_NEAR(log_sum, 0.0, 1e-12);
  // 3 vs 0 alone pins their ratio: 2.5 / 4.5.
  EXPECT_NEAR((*pi)[3] / (*pi)[0], 2.5 / 4.5, 1e-8);
}

TEST(BradleyTerryTest, NoWinsNeedsThePrior) {
  auto strict = BradleyTerryStrengths(2, {{0, 1, 10, 0}});
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(strict.status().message().find("prior_wins"), absl::string_view::npos) << strict.status();
  // 0.5 pseudo-wins per side: 10.5 vs 0.5.
  auto smoothed = BradleyTerryStrengths(2, {{0, 1, 10, 0}}, 0.5);
  ASSERT_TRUE(smoothed.ok()) << smoothed.status();
  EXPECT_NEAR((*smoothed)[0] / (*smoothed)[1], 21.0, 1e-7);
}

TEST(BradleyTerryTest, GroupThatNeverLosesIsAnError) {
  // Everyone wins some games, but {0, 1} never lose to {2, 3}.
  const std::vector<Comparison> comparisons = {{0, 1, 5, 5}, {2, 3, 5, 5}, {0, 2, 10, 0}, {1, 3, 10, 0}};
  EXPECT_EQ(BradleyTerryStrengths(4, comparisons).status().code(), absl::StatusCode::kFailedPrecondition);
  auto smoothed = BradleyTerryStrengths(4, comparisons, 0.5);
  ASSERT_TRUE(smoothed.ok()) << smoothed.status();
  EXPECT_GT((*smoothed)[0], (*smoothed)[2]);
  EXPECT_GT((*smoothed)[1], (*smoothed)[3]);
}

TEST(BradleyTerryTest, UnidentifiableSystems) {
  // System 2 never compared.
  EXPECT_EQ(BradleyTerryStrengths(3, {{0, 1, 3, 2}}).status().code(), absl::StatusCode::kFailedPrecondition);
  // An entry without outcomes is no comparison.
  EXPECT_EQ(BradleyTerryStrengths(3, {{0, 1, 3, 2}, {1, 2, 0, 0}}, 0.5).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Two separate pairs: no link between {0, 1} and {2, 3}, even with a prior.
  EXPECT_EQ(BradleyTerryStrengths(4, {{0, 1, 3, 2}, {2, 3, 1, 1}}, 0.5).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(BradleyTerryTest, RejectsInvalidArguments) {
  const auto code = [](absl::StatusOr<std::vector<double>> r) { return r.status().code(); };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code(BradleyTerryStrengths(1, {})), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{0, 2, 1, 1}})), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{-1, 1, 1, 1}})), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{1, 1, 1, 1}})), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{0, 1, -1, 1}})), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{0, 1, std::nan(""), 1}})), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{0, 1, 1, 1}}, -0.5)), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{0, 1, 1, 1}}, 0.0, 0.0)), kInvalid);
  EXPECT_EQ(code(BradleyTerryStrengths(2, {{0, 1, 1, 1}}, 0.0, 1e-9, 0)), kInvalid);
}

TEST(BradleyTerryTest, ReportsNonConvergence) {
  auto pi = BradleyTerryStrengths(3, {{0, 1, 10, 20}, {1, 2, 10, 20}, {0, 2, 10, 40}}, 0.0, 1e-12, 2);
  EXPECT_EQ(pi.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pi.status().message().find("converge"), absl::string_view::npos);
}

// ----------------------------------------------------------------- median

TEST(MedianTest, OddEvenAndEmpty) {
  EXPECT_EQ(Median({}), 0.0);
  EXPECT_EQ(Median({5.0}), 5.0);
  EXPECT_EQ(Median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_EQ(Median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_EQ(Median({2.0, 2.0, 9.0, -7.0}), 2.0);
  EXPECT_EQ(Median({-1.0, -5.0}), -3.0);
  EXPECT_EQ(Median({1e308, 1e308}), 1e308);  // no overflow in the mean
}

}  // namespace
}  // namespace dreamshot::survey

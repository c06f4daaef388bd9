#include "services/train_sweep.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/text_format.h>

namespace dreamshot::services {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

v1::SweepSpec Spec(const std::string& text) {
  v1::SweepSpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec)) << text;
  return spec;
}

v1::TrainConfig Base() {
  v1::TrainConfig base;
  base.set_base_model("/models/tiny");
  base.set_max_train_steps(10);
  base.set_seed(7);
  return base;
}

std::vector<std::string> Names(const std::vector<SweepChildConfig>& children) {
  std::vector<std::string> out;
  for (const auto& c : children) out.push_back(c.name);
  return out;
}

TEST(ExpandSweepTest, AGridIsTheCartesianProductFirstDimensionSlowestSeedFastest) {
  auto children = ExpandSweep(Base(), Spec(R"pb(
    dimensions { field: "rank" values: "4" values: "8" }
    dimensions { field: "learning_rate" values: "1e-4" values: "5e-5" }
    seeds: 1 seeds: 2
  )pb"));
  ASSERT_TRUE(children.ok()) << children.status();
  EXPECT_THAT(Names(*children),
              ElementsAre("rank=4 lr=0.0001 seed=1", "rank=4 lr=0.0001 seed=2", "rank=4 lr=5e-05 seed=1",
                          "rank=4 lr=5e-05 seed=2", "rank=8 lr=0.0001 seed=1", "rank=8 lr=0.0001 seed=2",
                          "rank=8 lr=5e-05 seed=1", "rank=8 lr=5e-05 seed=2"));
  const SweepChildConfig& last = children->back();
  EXPECT_EQ(last.config.rank(), 8);
  EXPECT_DOUBLE_EQ(last.config.learning_rate(), 5e-5);
  EXPECT_EQ(last.config.seed(), 2u);
  EXPECT_EQ(last.config.base_model(), "/models/tiny");  // the rest is the base's
  EXPECT_EQ(last.config.max_train_steps(), 10);
  EXPECT_THAT(last.values, ElementsAre(Pair("rank", "8"), Pair("learning_rate", "5e-05"), Pair("seed", "2")));
}

TEST(ExpandSweepTest, AnyScalarRepeatedOrEnumLikeFieldIsSweptByName) {
  auto children = ExpandSweep(Base(), Spec(R"pb(
    dimensions { field: "lr_scheduler" values: "cosine" }
    dimensions { field: "with_prior_preservation" values: "false" }
    dimensions { field: "target_modules" values: "to_q,to_v" values: "to_q, to_k, to_v, to_out.0" }
    dimensions { field: "seed" values: "3" }
  )pb"));
  ASSERT_TRUE(children.ok()) << children.status();
  ASSERT_EQ(children->size(), 2u);
  const v1::TrainConfig& c = (*children)[1].config;
  EXPECT_EQ(c.lr_scheduler(), "cosine");
  EXPECT_TRUE(c.has_with_prior_preservation());
  EXPECT_FALSE(c.with_prior_preservation());
  EXPECT_THAT(c.target_modules(), ElementsAre("to_q", "to_k", "to_v", "to_out.0"));
  EXPECT_EQ(c.seed(), 3u);
  EXPECT_EQ((*children)[0].name, "lr_scheduler=cosine with_prior_preservation=false target_modules=to_q,to_v seed=3");
}

TEST(ExpandSweepTest, RandomTrialsAreReproducibleFromTheSamplingSeed) {
  const v1::SweepSpec spec = Spec(R"pb(
    mode: RANDOM trials: 6 sampling_seed: 42
    dimensions { field: "rank" values: "4" values: "8" values: "16" }
    dimensions { field: "learning_rate" log_uniform { min: 1e-5 max: 1e-3 } }
    seeds: 1 seeds: 2
  )pb");
  auto a = ExpandSweep(Base(), spec), b = ExpandSweep(Base(), spec);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 12u);  // 6 trials × 2 seeds
  EXPECT_EQ(Names(*a), Names(*b));
  std::set<std::string> distinct;
  for (size_t i = 0; i < a->size(); ++i) {
    const v1::TrainConfig& c = (*a)[i].config;
    EXPECT_EQ(c.seed(), i % 2 == 0 ? 1u : 2u);
    EXPECT_GE(c.learning_rate(), 1e-5);
    EXPECT_LE(c.learning_rate(), 1e-3);
    EXPECT_THAT(std::vector<int>({4, 8, 16}), ::testing::Contains(c.rank()));
    // The name shows the value used: three significant digits.
    EXPECT_THAT((*a)[i].name, HasSubstr(absl::StrCat("lr=", (*a)[i].values[1].second)));
    EXPECT_DOUBLE_EQ(c.learning_rate(), std::stod((*a)[i].values[1].second));
    if (i % 2 == 1) EXPECT_EQ(c.learning_rate(), (*a)[i - 1].config.learning_rate());  // one trial, two seeds
    distinct.insert((*a)[i].values[1].second);
  }
  EXPECT_EQ(distinct.size(), 6u);
  v1::SweepSpec other = spec;
  other.set_sampling_seed(43);
  EXPECT_NE(Names(*ExpandSweep(Base(), other)), Names(*a));
}

TEST(ExpandSweepTest, RandomTrialsDoNotChangeAcrossBuilds) {
  // mt19937_64's sequence is fixed by the standard: these are the trials of
  // seed 42 everywhere (checked against an independent Python mt19937_64).
  auto a = ExpandSweep(Base(), Spec(R"pb(
    mode: RANDOM trials: 3 sampling_seed: 42
    dimensions { field: "rank" values: "4" values: "8" values: "16" }
    dimensions { field: "learning_rate" log_uniform { min: 1e-5 max: 1e-3 } }
  )pb"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(Names(*a), ElementsAre("rank=4 lr=0.00019", "rank=8 lr=1.87e-05", "rank=16 lr=1.54e-05"));
}

TEST(ExpandSweepTest, BadFieldsAndValuesAreRefusedNamingThem) {
  struct Case {
    std::string spec;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"pb(dimensions { field: "rnak" values: "4" })pb", "spec.dimensions[0] (rnak): TrainConfig has no field 'rnak'"},
      {R"pb(dimensions { field: "rank" values: "4" } dimensions { field: "rank" values: "8" })pb",
       "spec.dimensions[1] (rank): rank is swept twice"},
      {R"pb(dimensions { field: "rank" values: "4" values: "8.5" })pb",
       "spec.dimensions[0] (rank): '8.5' is not a valid int32 for rank"},
      {R"pb(dimensions { field: "rank" values: "99999999999" })pb", "'99999999999' is not a valid int32 for rank"},
      {R"pb(dimensions { field: "learning_rate" values: "fast" })pb",
       "spec.dimensions[0] (learning_rate): 'fast' is not a valid double for learning_rate"},
      {R"pb(dimensions { field: "learning_rate" values: "nan" })pb", "'nan' is not a valid double"},
      {R"pb(dimensions { field: "seed" values: "-1" })pb", "'-1' is not a valid uint64 for seed"},
      {R"pb(dimensions { field: "with_prior_preservation" values: "maybe" })pb",
       "'maybe' is not a valid bool for with_prior_preservation"},
      {R"pb(dimensions { field: "rank.x" values: "1" })pb", "'rank' in 'rank.x' is not a message field"},
      {R"pb(dimensions { field: "rank" })pb", "spec.dimensions[0] (rank): give values"},
      {R"pb(dimensions { field: "" values: "1" })pb", "spec.dimensions[0] (): give the field to sweep"},
      {R"pb(dimensions { field: "learning_rate" log_uniform { min: 1e-5 max: 1e-3 } })pb",
       "log_uniform is for RANDOM sweeps"},
      {R"pb(mode: RANDOM trials: 2 dimensions { field: "rank" log_uniform { min: 1 max: 8 } })pb",
       "log_uniform needs a float field; rank is int32"},
      {R"pb(mode: RANDOM trials: 2 dimensions { field: "learning_rate" log_uniform { min: 0 max: 1 } })pb",
       "log_uniform needs 0 < min < max, got [0, 1]"},
      {R"pb(mode: RANDOM dimensions { field: "rank" values: "4" })pb", "a RANDOM sweep needs trials ≥ 1"},
      {R"pb(mode: RANDOM trials: 2 dimensions { field: "seed" values: "4" })pb", "give seeds in spec.seeds"},
      {R"pb(dimensions { field: "seed" values: "4" } seeds: 1)pb", "seed is swept twice"},
      {R"pb(trials: 3 dimensions { field: "rank" values: "4" })pb", "spec.trials is for RANDOM sweeps"},
      {R"pb()pb", "spec: give at least one dimension or seeds"},
      {R"pb(max_concurrent: -1 seeds: 1)pb", "spec.max_concurrent must not be negative"},
      {R"pb(seeds: 1 early_stop { metric: "accuracy" step: 3 })pb", "spec.early_stop.metric 'accuracy' is not logged"},
      {R"pb(seeds: 1 early_stop { step: 3 window: 4 })pb", "spec.early_stop.window must be within 1..step (3)"},
      {R"pb(seeds: 1 early_stop { step: 3 factor: -1 })pb", "spec.early_stop.factor must be a finite number above 0"},
      {R"pb(seeds: 1 early_stop { factor: 2 })pb", "spec.early_stop.step: give the step"},
  };
  for (const Case& k : cases) {
    auto children = ExpandSweep(Base(), Spec(k.spec));
    EXPECT_EQ(children.status().code(), absl::StatusCode::kInvalidArgument) << k.spec << ": " << children.status();
    EXPECT_THAT(std::string(children.status().message()), HasSubstr(k.message)) << k.spec;
  }
}

TEST(ExpandSweepTest, MoreThanTheCapIsRefusedBeforeAnyChildIsMade) {
  std::string spec;
  for (const char* field : {"rank", "learning_rate", "resolution", "lr_warmup_steps"}) {
    spec += absl::StrCat("dimensions { field: \"", field, "\"");
    for (int i = 1; i <= 10; ++i) spec += absl::StrCat(" values: \"", i * 8, "\"");
    spec += " }\n";
  }
  auto children = ExpandSweep(Base(), Spec(spec));
  EXPECT_EQ(children.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(children.status().message()),
              HasSubstr("more than 256 children (10 rank × 10 learning_rate × 10 resolution"));
  auto seeds = ExpandSweep(Base(), Spec(R"pb(
    dimensions { field: "rank" values: "4" values: "8" values: "16" }
    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86]
  )pb"));
  EXPECT_EQ(seeds.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(seeds.status().message()), HasSubstr("the sweep has 258 children (3 rank × 86 seeds)"));
  auto exactly = ExpandSweep(Base(), Spec(R"pb(mode: RANDOM trials: 256 dimensions { field: "rank" values: "4" })pb"));
  ASSERT_TRUE(exactly.ok()) << exactly.status();
  EXPECT_EQ(exactly->size(), 256u);
}

TEST(ExpandSweepTest, TheEarlyStopRuleGetsItsDefaults) {
  auto rule = ValidateEarlyStop(Spec("early_stop { step: 4 }").early_stop());
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->metric(), "loss");
  EXPECT_EQ(rule->window(), 1);
  EXPECT_EQ(rule->factor(), 1.0);
  EXPECT_EQ(rule->min_siblings(), 1);
  auto none = ValidateEarlyStop(v1::EarlyStop());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->step(), 0);
}

std::vector<MetricPoint> Series(std::vector<double> values) {
  std::vector<MetricPoint> out;
  for (size_t i = 0; i < values.size(); ++i) out.push_back({static_cast<int64_t>(i + 1), values[i]});
  return out;
}

TEST(EarlyStopVerdictTest, StopsAChildAboveFactorTimesTheMedianOfItsSiblingsAtStepS) {
  v1::EarlyStop rule = *ValidateEarlyStop(Spec("early_stop { step: 3 }").early_stop());
  // Siblings' values at step 3: 0.2, 0.4, 0.9 → median 0.4.
  const std::vector<std::vector<MetricPoint>> siblings = {Series({1, 1, 0.2}), Series({1, 1, 0.9, 5}),
                                                          Series({1, 1, 0.4})};
  EXPECT_FALSE(EarlyStopVerdict(rule, Series({0, 0, 0.4}), siblings).has_value());  // equal: not above
  auto verdict = EarlyStopVerdict(rule, Series({0, 0, 0.41}), siblings);
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(*verdict,
            "stopped by the sweep's early-stop rule: loss at step 3 0.41 > 1 × 0.4, the median of 3 siblings at "
            "step 3");
  rule.set_factor(1.5);
  EXPECT_FALSE(EarlyStopVerdict(rule, Series({0, 0, 0.6}), siblings).has_value());
  EXPECT_TRUE(EarlyStopVerdict(rule, Series({0, 0, 0.61}), siblings).has_value());
}

TEST(EarlyStopVerdictTest, TheWindowAveragesTheLastKStepsAndAnEvenCountTakesTheMiddleTwo) {
  v1::EarlyStop rule = *ValidateEarlyStop(Spec("early_stop { step: 4 window: 2 }").early_stop());
  // Means over steps 3-4: 0.5 and 1.0 → median 0.75.
  const std::vector<std::vector<MetricPoint>> siblings = {Series({9, 9, 0.4, 0.6}), Series({9, 9, 1.5, 0.5})};
  auto verdict = EarlyStopVerdict(rule, Series({0, 0, 0.5, 1.1}), siblings);  // mean 0.8
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(*verdict,
            "stopped by the sweep's early-stop rule: loss (mean of steps 3-4) 0.8 > 1 × 0.75, the median of 2 "
            "siblings at step 4");
  EXPECT_FALSE(EarlyStopVerdict(rule, Series({0, 0, 0.5, 1.0}), siblings).has_value());  // mean 0.75
}

TEST(EarlyStopVerdictTest, OnlySiblingsThatReachedSCountAndTooFewMeansNoVerdict) {
  v1::EarlyStop rule = *ValidateEarlyStop(Spec("early_stop { step: 3 min_siblings: 2 }").early_stop());
  const std::vector<MetricPoint> high = Series({0, 0, 10});
  EXPECT_FALSE(EarlyStopVerdict(rule, high, {Series({1, 1, 1}), Series({1, 1})}).has_value());  // one reached 3
  EXPECT_TRUE(EarlyStopVerdict(rule, high, {Series({1, 1, 1}), Series({1, 1, 1})}).has_value());
  EXPECT_FALSE(EarlyStopVerdict(rule, Series({0, 0}), {Series({1, 1, 1}), Series({1, 1, 1})}).has_value());
  EXPECT_FALSE(EarlyStopVerdict(v1::EarlyStop(), high, {Series({1, 1, 1}), Series({1, 1, 1})}).has_value());
}

}  // namespace
}  // namespace dreamshot::services

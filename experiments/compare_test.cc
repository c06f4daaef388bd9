#include "experiments/compare.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dreamshot::experiments {
namespace {

Run MakeRun(int64_t id, Params params, std::vector<std::pair<std::string, double>> metrics) {
  Run run;
  run.id = id;
  run.params = std::move(params);
  for (auto& [key, value] : metrics) run.metrics.push_back({key, 10, value, 0, value, value, 1});
  return run;
}

TEST(CompareRunsTest, MarksParamsThatDiffer) {
  std::vector<experiments::Run> runs = {MakeRun(1, {{"lora_rank", "8"}, {"lr", "1e-4"}}, {{"clip_t", 0.32}}),
                           MakeRun(2, {{"lora_rank", "16"}, {"lr", "1e-4"}}, {{"dino", 0.5}})};
  RunComparison c = CompareRuns(runs);
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0].key, "lora_rank");
  EXPECT_TRUE(c.params[0].differs);
  EXPECT_EQ(c.params[1].key, "lr");
  EXPECT_FALSE(c.params[1].differs);
  ASSERT_EQ(c.metrics.size(), 2u);
  EXPECT_EQ(c.metrics[0].key, "clip_t");
  EXPECT_TRUE(c.metrics[0].cells[0].has_value());
  EXPECT_FALSE(c.metrics[0].cells[1].has_value());
}

TEST(CompareRunsTest, MissingParamCountsAsDifferent) {
  RunComparison c = CompareRuns({MakeRun(1, {{"a", "1"}}, {}), MakeRun(2, {}, {})});
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_TRUE(c.params[0].differs);
}

TEST(AggregateRunsTest, GroupsBySeedlessParamsWithStudentTInterval) {
  std::vector<experiments::Run> runs;
  const double clip[] = {0.31, 0.33, 0.32};
  for (int seed = 0; seed < 3; ++seed) {
    runs.push_back(MakeRun(seed + 1, {{"lora_rank", "8"}, {"seed", std::to_string(seed)}},
                           {{"clip_t", clip[seed]}}));
  }
  runs.push_back(MakeRun(9, {{"lora_rank", "16"}, {"train.seed", "0"}}, {{"clip_t", 0.30}}));
  auto groups = AggregateRuns(runs, {});
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 2u);
  const RunGroupAggregate& rank16 = (*groups)[1];  // numbers order by value: 8 < 16
  EXPECT_EQ(rank16.shared_params.at("lora_rank"), "16");
  EXPECT_EQ(rank16.metrics[0].n, 1);
  EXPECT_TRUE(std::isnan(rank16.metrics[0].ci_low));
  const RunGroupAggregate& rank8 = (*groups)[0];
  EXPECT_EQ(rank8.run_ids, (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(rank8.metrics.size(), 1u);
  const MetricAggregate& m = rank8.metrics[0];
  EXPECT_EQ(m.n, 3);
  EXPECT_NEAR(m.mean, 0.32, 1e-12);
  EXPECT_NEAR(m.stddev, 0.01, 1e-12);
  // t(0.975, 2) = 4.302652729749464; half-width = t * s / sqrt(3).
  const double half = 4.302652729749464 * 0.01 / std::sqrt(3.0);
  EXPECT_NEAR(m.ci_low, 0.32 - half, 1e-9);
  EXPECT_NEAR(m.ci_high, 0.32 + half, 1e-9);
}

TEST(AggregateRunsTest, ExplicitIgnoreListAndMetricSelection) {
  std::vector<experiments::Run> runs = {MakeRun(1, {{"seed", "1"}, {"lr", "1"}}, {{"a", 1}, {"b", 2}}),
                           MakeRun(2, {{"seed", "2"}, {"lr", "2"}}, {{"a", 3}, {"b", 4}})};
  AggregateOptions options;
  options.ignore_params = {"lr"};
  options.metrics = {"b"};
  auto groups = AggregateRuns(runs, options);
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->size(), 2u);  // seed now defines the group
  EXPECT_EQ((*groups)[0].metrics.size(), 1u);
  EXPECT_EQ((*groups)[0].metrics[0].key, "b");
  options.confidence = 1.5;
  EXPECT_EQ(AggregateRuns(runs, options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::experiments

// Scores on constructed embeddings with known cosines, the scales, the
// per-group summaries and the errors that name the broken item.
#include "evaluator/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace dreamshot::evaluator {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RowCosinesOfConstructedPairs) {
  // Rows at 0°, 60°, 90° and 180°, with lengths that a cosine must ignore.
  const double c = std::cos(M_PI / 3), s = std::sin(M_PI / 3);
  const at::Tensor a = torch::tensor({{1.0, 0.0, 0.0}, {2.0, 0.0, 0.0}, {0.0, 3.0, 0.0}, {1.0, 1.0, 1.0}});
  const at::Tensor b = torch::tensor({{5.0, 0.0, 0.0}, {c, s, 0.0}, {0.0, 0.0, 0.5}, {-2.0, -2.0, -2.0}});
  auto cosines = RowCosines(a.to(torch::kFloat), b.to(torch::kFloat));
  ASSERT_TRUE(cosines.ok()) << cosines.status();
  ASSERT_EQ(cosines->size(), 4u);
  EXPECT_DOUBLE_EQ((*cosines)[0], 1.0);
  EXPECT_NEAR((*cosines)[1], 0.5, 1e-7);  // float32 inputs
  EXPECT_DOUBLE_EQ((*cosines)[2], 0.0);
  EXPECT_DOUBLE_EQ((*cosines)[3], -1.0);
}

TEST(MetricsTest, CosinesMatchLibTorchOnRandomEmbeddings) {
  torch::manual_seed(3);
  const at::Tensor a = torch::randn({16, 512}), b = torch::randn({16, 512});
  auto ours = RowCosines(a, b);
  ASSERT_TRUE(ours.ok());
  const at::Tensor reference = torch::cosine_similarity(a.to(torch::kDouble), b.to(torch::kDouble), 1);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR((*ours)[i], reference[i].item<double>(), 1e-12) << i;
}

TEST(MetricsTest, ClipScoreScales) {
  EXPECT_EQ(ScaleClipScore(0.2875, ClipScoreScale::kCosine), 0.2875);
  EXPECT_DOUBLE_EQ(ScaleClipScore(0.2875, ClipScoreScale::kTorchmetrics), 28.75);
  EXPECT_EQ(ScaleClipScore(-0.2, ClipScoreScale::kTorchmetrics), 0.0);
  EXPECT_EQ(ParseClipScoreScale("torchmetrics"), ClipScoreScale::kTorchmetrics);
  EXPECT_EQ(ParseClipScoreScale("percent"), std::nullopt);
  EXPECT_EQ(ParseMetric(MetricName(Metric::kDino)), Metric::kDino);
  EXPECT_STREQ(MetricName(Metric::kClipT), "clip_t");
}

TEST(MetricsTest, BrokenEmbeddingsAreNamed) {
  const at::Tensor good = torch::ones({2, 4});
  at::Tensor nan = torch::ones({2, 4});
  nan[1][2] = NAN;
  const std::string names[] = {"close/0001", "long/0007"};
  auto r = RowCosines(good, nan, names);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("item 'long/0007' holds a NaN"));
  r = RowCosines(torch::zeros({2, 4}), good);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("row 0 is all zeros"));
  r = RowCosines(good, torch::ones({3, 4}));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("got [2, 4] and [3, 4]"));
  r = RowCosines(torch::ones({4}), torch::ones({4}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetricsTest, SummariesPerGroupThenOverall) {
  const double scores[] = {0.30, 0.34, 0.20, 0.32, 0.22};
  const std::string groups[] = {"close", "close", "long", "close", "long"};
  auto summary = SummarizeByGroup(scores, groups);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->size(), 3u);
  EXPECT_EQ((*summary)[0].group, "close");
  EXPECT_EQ((*summary)[0].summary.n, 3);
  EXPECT_NEAR((*summary)[0].summary.mean, 0.32, 1e-15);
  EXPECT_NEAR((*summary)[0].summary.stddev, 0.02, 1e-15);
  EXPECT_EQ((*summary)[1].group, "long");
  EXPECT_NEAR((*summary)[1].summary.mean, 0.21, 1e-15);
  EXPECT_EQ((*summary)[2].group, kAllGroups);
  EXPECT_EQ((*summary)[2].summary.n, 5);
  EXPECT_NEAR((*summary)[2].summary.mean, 0.276, 1e-15);
  // Student-t 95% interval of the close group: 0.32 ± t(0.975, 2) · 0.02/√3.
  EXPECT_NEAR((*summary)[0].summary.ci_high - 0.32, 4.302652729749464 * 0.02 / std::sqrt(3.0), 1e-12);
}

TEST(MetricsTest, SummaryInputsAreChecked) {
  const double scores[] = {0.3, NAN};
  const std::string groups[] = {"close", "long"};
  auto r = SummarizeByGroup(scores, groups);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("score 1 (group 'long') is not finite"));
  r = SummarizeByGroup(absl::Span<const double>(scores, 1), groups);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("1 scores but 2 group labels"));
  const std::string reserved[] = {"all"};
  r = SummarizeByGroup(absl::Span<const double>(scores, 1), reserved);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("'all' is reserved"));
  EXPECT_EQ(SummarizeByGroup({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::evaluator

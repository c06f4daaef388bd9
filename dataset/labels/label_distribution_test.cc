#include "dataset/labels/label_distribution.h"

#include <gtest/gtest.h>

namespace dreamshot::dataset::labels {
namespace {

ScaleLabel Label(FineShotScale fine, double confidence) {
  ScaleLabel l;
  l.fine = fine;
  l.scale = CoarseScale(fine);
  l.confidence = confidence;
  return l;
}

TEST(LabelDistributionTest, CountsPercentagesAndConfidence) {
  LabelDistribution dist;
  EXPECT_EQ(dist.percent(ShotScale::kClose), 0);
  dist.Add(Label(FineShotScale::kExtremeClose, 0.9));
  dist.Add(Label(FineShotScale::kClose, 0.7));
  dist.Add(Label(FineShotScale::kMedium, 0.5));
  dist.Add(Label(FineShotScale::kLong, 0.2));
  ScaleLabel coarse_only;  // e.g. imported "medium" without a fine scale
  coarse_only.scale = ShotScale::kMedium;
  coarse_only.confidence = 1.0;
  dist.Add(coarse_only);

  EXPECT_EQ(dist.total(), 5);
  EXPECT_EQ(dist.count(ShotScale::kClose), 2);
  EXPECT_EQ(dist.count(ShotScale::kMedium), 2);
  EXPECT_EQ(dist.count(ShotScale::kLong), 1);
  EXPECT_EQ(dist.count(FineShotScale::kUnknown), 1);
  EXPECT_DOUBLE_EQ(dist.percent(ShotScale::kClose), 40);
  EXPECT_DOUBLE_EQ(dist.percent(FineShotScale::kExtremeClose), 20);
  EXPECT_DOUBLE_EQ(dist.mean_confidence(ShotScale::kClose), 0.8);
  EXPECT_DOUBLE_EQ(dist.mean_confidence(ShotScale::kUnknown), 0);
  EXPECT_EQ(dist.ToString(),
            "close 2 (40.0%, conf 0.80), medium 2 (40.0%, conf 0.75), long 1 (20.0%, conf 0.20), unknown 0 (0.0%)"
            " | ECS 1 (20.0%), CS 1 (20.0%), MS 1 (20.0%), FS 0 (0.0%), LS 1 (20.0%), unknown 1 (20.0%); n=5");
}

}  // namespace
}  // namespace dreamshot::dataset::labels

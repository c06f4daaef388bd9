#include "dataset/labels/shot_scale.h"

#include <gtest/gtest.h>

namespace dreamshot::dataset::labels {
namespace {

constexpr int kW = 1920, kH = 1000;  // round height: fractions read directly

Detection Face(int height, double score = 1.0, DetectionKind kind = DetectionKind::kFace) {
  return Detection{kind, Box{100, 50, height, height}, score, "test"};
}

Detection Body(DetectionKind kind, int height, double score = 1.0) {
  return Detection{kind, Box{100, 0, height / 2, height}, score, "test"};
}

ScaleEstimate Estimate(const std::vector<Detection>& dets, const ShotScaleConfig& config = {}) {
  absl::StatusOr<ScaleEstimate> est = EstimateShotScale(dets, kW, kH, config);
  EXPECT_TRUE(est.ok()) << est.status();
  return est.ok() ? *est : ScaleEstimate{};
}

TEST(ShotScaleTest, FaceFractionBands) {
  EXPECT_EQ(Estimate({Face(700)}).label.fine, FineShotScale::kExtremeClose);
  EXPECT_EQ(Estimate({Face(370)}).label.fine, FineShotScale::kClose);
  EXPECT_EQ(Estimate({Face(150)}).label.fine, FineShotScale::kMedium);
  EXPECT_EQ(Estimate({Face(70)}).label.fine, FineShotScale::kFull);
  EXPECT_EQ(Estimate({Face(30)}).label.fine, FineShotScale::kLong);
  // Five to three.
  EXPECT_EQ(Estimate({Face(700)}).label.scale, ShotScale::kClose);
  EXPECT_EQ(Estimate({Face(370)}).label.scale, ShotScale::kClose);
  EXPECT_EQ(Estimate({Face(150)}).label.scale, ShotScale::kMedium);
  EXPECT_EQ(Estimate({Face(70)}).label.scale, ShotScale::kLong);
  EXPECT_EQ(Estimate({Face(30)}).label.scale, ShotScale::kLong);
  const ScaleEstimate est = Estimate({Face(370)});
  EXPECT_EQ(est.label.method, "faces");
  EXPECT_NEAR(est.measure, 0.37, 1e-9);
  EXPECT_NE(est.label.evidence.find("face 0.370 of frame height"), std::string::npos) << est.label.evidence;
}

TEST(ShotScaleTest, ThresholdsAreLowerBounds) {
  EXPECT_EQ(Estimate({Face(250)}).label.fine, FineShotScale::kClose);
  EXPECT_EQ(Estimate({Face(249)}).label.fine, FineShotScale::kMedium);
  EXPECT_EQ(Estimate({Face(100)}).label.fine, FineShotScale::kMedium);
  EXPECT_EQ(Estimate({Face(99)}).label.fine, FineShotScale::kFull);
}

TEST(ShotScaleTest, ConfidenceFallsNearABoundaryAndFollowsTheScore) {
  // At the close/medium threshold: a coin flip, half the detector's score.
  EXPECT_NEAR(Estimate({Face(250)}).label.confidence, 0.5, 1e-9);
  // 1.5× from the nearest coarse threshold (0.25 × 1.5 = 0.375): full score.
  EXPECT_NEAR(Estimate({Face(375)}).label.confidence, 1.0, 1e-6);
  // In between: monotone in the distance.
  const double near = Estimate({Face(270)}).label.confidence, mid = Estimate({Face(320)}).label.confidence;
  EXPECT_GT(near, 0.5);
  EXPECT_LT(near, mid);
  EXPECT_LT(mid, 1.0);
  // Scaled by the detector's score.
  EXPECT_NEAR(Estimate({Face(375, 0.6)}).label.confidence, 0.6, 1e-6);
  // ECS at 0.52 is far from the close/medium line (coarse sure) but close to
  // the ECS/CS line (fine unsure).
  const ScaleEstimate ecs = Estimate({Face(520)});
  EXPECT_NEAR(ecs.label.confidence, 1.0, 1e-9);
  EXPECT_LT(ecs.fine_confidence, 0.6);
}

TEST(ShotScaleTest, LargestConfidentFaceIsTheSubject) {
  const ScaleEstimate est =
      Estimate({Face(120), Face(400, /*score=*/0.1), Face(300), Body(DetectionKind::kFullBody, 900)});
  ASSERT_TRUE(est.subject.has_value());
  EXPECT_EQ(est.subject->box.height, 300);  // 400 scores below min_score; faces beat bodies
  EXPECT_EQ(est.label.fine, FineShotScale::kClose);
}

TEST(ShotScaleTest, WeakFacesMuchLargerThanTheBestAreNotTheSubject) {
  // A 0.45 "face" twice the size of a 0.63 one: a texture false positive.
  ScaleEstimate est = Estimate({Face(250, 0.45), Face(110, 0.63)});
  ASSERT_TRUE(est.subject.has_value());
  EXPECT_EQ(est.subject->box.height, 110);
  ShotScaleConfig config;
  config.subject_relative_score = 0;  // largest face above min_score
  est = Estimate({Face(250, 0.45), Face(110, 0.63)}, config);
  EXPECT_EQ(est.subject->box.height, 250);
}

TEST(ShotScaleTest, UpperBodyInsideAFullBodyIsTheSamePerson) {
  Detection upper{DetectionKind::kUpperBody, Box{100, 10, 60, 50}, 0.3, "test"};
  Detection full{DetectionKind::kFullBody, Box{95, 5, 70, 120}, 0.7, "test"};
  ScaleEstimate est = Estimate({upper, full});
  ASSERT_TRUE(est.subject.has_value());
  EXPECT_EQ(est.subject->kind, DetectionKind::kFullBody);
  EXPECT_EQ(est.label.fine, FineShotScale::kLong);
  full.box.x = 1000;  // someone else, further away: the nearer upper body wins
  est = Estimate({upper, full});
  EXPECT_EQ(est.subject->kind, DetectionKind::kUpperBody);
}

TEST(ShotScaleTest, BodiesWithoutFaces) {
  // A full figure filling most of the frame: FS, and long for sure.
  ScaleEstimate est = Estimate({Body(DetectionKind::kFullBody, 800, 0.7)});
  EXPECT_EQ(est.label.method, "people");
  EXPECT_EQ(est.label.fine, FineShotScale::kFull);
  EXPECT_EQ(est.label.scale, ShotScale::kLong);
  EXPECT_NEAR(est.label.confidence, 0.7, 1e-9);
  // Small figures: LS.
  est = Estimate({Body(DetectionKind::kFullBody, 200), Body(DetectionKind::kFullBody, 150)});
  EXPECT_EQ(est.label.fine, FineShotScale::kLong);
  EXPECT_NEAR(est.measure, 0.2, 1e-9);
  // Head and shoulders 0.5 of the frame ≈ a face of 0.2: medium.
  est = Estimate({Body(DetectionKind::kUpperBody, 500)});
  EXPECT_EQ(est.label.fine, FineShotScale::kMedium);
  EXPECT_NEAR(est.measure, 0.2, 1e-9);
  EXPECT_NE(est.label.evidence.find("upper body 0.500"), std::string::npos) << est.label.evidence;
}

TEST(ShotScaleTest, NoPeopleIsALowConfidenceLongShot) {
  for (const auto& dets : {std::vector<Detection>{}, std::vector<Detection>{Face(300, 0.05)}}) {
    const ScaleEstimate est = Estimate(dets);
    EXPECT_EQ(est.label.method, "none");
    EXPECT_EQ(est.label.scale, ShotScale::kLong);
    EXPECT_EQ(est.label.fine, FineShotScale::kLong);
    EXPECT_DOUBLE_EQ(est.label.confidence, 0.2);
    EXPECT_FALSE(est.subject.has_value());
  }
}

TEST(ShotScaleTest, ConfigIsValidated) {
  ShotScaleConfig config;
  config.close_face = 0.6;  // above extreme_close_face
  absl::StatusOr<ScaleEstimate> est = EstimateShotScale({Face(300)}, kW, kH, config);
  EXPECT_EQ(est.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(est.status().message().find("descend"), std::string::npos) << est.status();
  EXPECT_EQ(EstimateShotScale({}, 0, kH).status().code(), absl::StatusCode::kInvalidArgument);
  config = ShotScaleConfig{};
  config.margin_ratio = 1.0;
  EXPECT_FALSE(config.Validate().ok());
}

}  // namespace
}  // namespace dreamshot::dataset::labels

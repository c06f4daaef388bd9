#include "evaluator/clip_zero_shot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace dreamshot::evaluator {
namespace {

using dataset::ShotScale;
using ::testing::HasSubstr;

TEST(ClipZeroShotTest, TheClosestPromptWinsWithClipsProbability) {
  // Prompts along the axes (two for "long", averaged to the x+y diagonal).
  const std::array<at::Tensor, 3> prompts = {torch::tensor({{0.0, 0.0, 2.0}}), torch::tensor({{0.0, 3.0, 0.0}}),
                                             torch::tensor({{1.0, 1.0, 0.0}, {1.0, -1.0, 0.0}})};
  // Image 0 points at close; image 1 at long's mean (the x axis).
  const at::Tensor images = torch::tensor({{0.1, 0.0, 5.0}, {4.0, 0.0, 0.0}});
  auto r = ClassifyShotScales(images, prompts, /*logit_scale=*/100.0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].scale, ShotScale::kClose);
  EXPECT_EQ((*r)[1].scale, ShotScale::kLong);
  // Image 1: cosines (0, 0, 1) → softmax(100 · cos).
  const double e = std::exp(-100.0);
  EXPECT_NEAR((*r)[1].confidence, 1.0 / (1.0 + 2.0 * e), 1e-12);
  EXPECT_NEAR((*r)[1].probabilities[0], e / (1.0 + 2.0 * e), 1e-50);
  double sum = 0;
  for (double p : (*r)[0].probabilities) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(ClipZeroShotTest, ALowLogitScaleSpreadsTheProbabilities) {
  const std::array<at::Tensor, 3> prompts = {torch::tensor({{1.0, 0.0}}), torch::tensor({{0.0, 1.0}}),
                                             torch::tensor({{-1.0, 0.0}})};
  auto r = ClassifyShotScales(torch::tensor({{1.0, 0.0}}), prompts, 1.0);
  ASSERT_TRUE(r.ok());
  // cosines (1, 0, -1): softmax = e^(1, 0, -1) / Σ.
  const double z = std::exp(1.0) + 1.0 + std::exp(-1.0);
  EXPECT_NEAR((*r)[0].probabilities[0], std::exp(1.0) / z, 1e-12);
  EXPECT_NEAR((*r)[0].probabilities[2], std::exp(-1.0) / z, 1e-12);
}

TEST(ClipZeroShotTest, BadInputIsNamed) {
  const std::array<at::Tensor, 3> ok = {torch::ones({1, 4}), torch::ones({2, 4}), torch::ones({1, 4})};
  std::array<at::Tensor, 3> narrow = ok;
  narrow[1] = torch::ones({1, 3});
  auto r = ClassifyShotScales(torch::ones({2, 4}), narrow);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("the medium prompts' embeddings must be [P ≥ 1, 4], got [1, 3]"));
  r = ClassifyShotScales(torch::zeros({2, 4}), ok);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("row 0 is all zeros"));
  std::array<at::Tensor, 3> opposite = ok;
  opposite[2] = torch::tensor({{1.0, 0.0, 0.0, 0.0}, {-1.0, 0.0, 0.0, 0.0}});
  r = ClassifyShotScales(torch::ones({1, 4}), opposite);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("the long prompts' embeddings cancel out"));
  EXPECT_EQ(ClassifyShotScales(torch::ones({1, 4}), ok, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DefaultScalePrompts(ShotScale::kUnknown).size(), 0u);
  EXPECT_EQ(DefaultScalePrompts(ShotScale::kMedium).size(), 2u);
}

}  // namespace
}  // namespace dreamshot::evaluator

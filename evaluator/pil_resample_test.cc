// Pillow's bicubic resize on cases small enough to check by hand: the
// kernel values at the sample offsets, their normalisation and 22-bit
// fixed point, the rounding and clamping of the sums, and which passes run.
// (The parity cases compare whole images with Pillow's output.)
#include "evaluator/pil_resample.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dreamshot::evaluator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BicubicWeightsTest, HalvingStretchesTheKernelAndNormalisesInFixedPoint) {
  // 4 → 2: scale 2, so the kernel spans ±4 input samples (9 taps at most).
  // Output 0 is centred at 1.0; inputs 0..3 sit at offsets -0.5, 0.5, 1.5,
  // 2.5, i.e. ±0.25, 0.75, 1.25 in kernel units: cubic values 0.8671875,
  // 0.8671875, 0.2265625, -0.0703125, summing to 1.890625. Normalised and
  // times 2^22, rounded half away from zero: 1923833.6 → 1923834,
  // 502623.4 → 502623, -155987.4 → -155987.
  const ResampleWeights w = BicubicWeights(4, 2);
  EXPECT_EQ(w.taps, 9);
  EXPECT_THAT(w.first, ElementsAre(0, 0));
  EXPECT_THAT(w.count, ElementsAre(4, 4));
  EXPECT_THAT(std::vector<int32_t>(w.weights.begin(), w.weights.begin() + 4),
              ElementsAre(1923834, 1923834, 502623, -155987));
  EXPECT_THAT(std::vector<int32_t>(w.weights.begin() + 9, w.weights.begin() + 13),
              ElementsAre(-155987, 502623, 1923834, 1923834));
}

TEST(BicubicWeightsTest, UpscalingKeepsTheUnitKernel) {
  // 3 → 5: scale 0.6 < 1, so the kernel is not stretched (support 2, 5 taps).
  // Output 2 is centred on input 1 exactly: weights 0, 1, 0.
  const ResampleWeights w = BicubicWeights(3, 5);
  EXPECT_EQ(w.taps, 5);
  EXPECT_THAT(w.first, ElementsAre(0, 0, 0, 0, 1));
  EXPECT_THAT(w.count, ElementsAre(2, 3, 3, 3, 2));
  EXPECT_THAT(std::vector<int32_t>(w.weights.begin() + 10, w.weights.begin() + 13), ElementsAre(0, 4194304, 0));
  EXPECT_THAT(std::vector<int32_t>(w.weights.begin(), w.weights.begin() + 2), ElementsAre(4510855, -316551));
}

TEST(ResizeBicubicTest, HandComputedRow) {
  // (255·(1923834 − 155987) + 2^21) >> 22 = 107; the mirror: 148.
  Image8 row{4, 1, 1, {0, 255, 0, 255}};
  auto out = ResizeBicubic(row, 2, 1);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->width, 2);
  EXPECT_EQ(out->height, 1);
  EXPECT_THAT(out->pixels, ElementsAre(107, 148));
}

TEST(ResizeBicubicTest, VerticalPassAloneGivesTheSameNumbers) {
  Image8 column{1, 4, 1, {0, 255, 0, 255}};
  auto out = ResizeBicubic(column, 1, 2);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->pixels, ElementsAre(107, 148));
}

TEST(ResizeBicubicTest, OvershootIsClampedToTheByteRange) {
  // Output 0 of 3 → 5: 10·4510855 − 200·316551 + 2^21 < 0 → 0; the
  // centre sample is copied; the others by hand as above.
  Image8 row{3, 1, 1, {10, 200, 30}};
  auto out = ResizeBicubic(row, 5, 1);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->pixels, ElementsAre(0, 84, 200, 98, 17));
  Image8 bright{3, 1, 1, {255, 0, 255}};
  out = ResizeBicubic(bright, 5, 1);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->pixels.front(), 255);  // (255·4510855 + 2^21) >> 22 = 274: clamped
}

TEST(ResizeBicubicTest, ChannelsAreResampledApartAndConstantsStayConstant) {
  Image8 image{7, 5, 3, {}};
  for (int i = 0; i < 7 * 5; ++i) image.pixels.insert(image.pixels.end(), {200, 13, 255});
  for (auto [w, h] : {std::pair{3, 2}, std::pair{11, 9}, std::pair{7, 3}}) {
    auto out = ResizeBicubic(image, w, h);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->pixels.size(), static_cast<size_t>(w * h * 3));
    for (size_t i = 0; i < out->pixels.size(); i += 3) {
      ASSERT_EQ(out->pixels[i], 200);
      ASSERT_EQ(out->pixels[i + 1], 13);
      ASSERT_EQ(out->pixels[i + 2], 255);
    }
  }
  auto same = ResizeBicubic(image, 7, 5);  // no pass at all: a copy
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->pixels, image.pixels);
}

TEST(ResizeBicubicTest, RejectsBadImagesAndSizes) {
  EXPECT_THAT(std::string(ResizeBicubic(Image8{2, 2, 3, {1, 2, 3}}, 1, 1).status().message()),
              HasSubstr("holds 3 bytes, expected 12"));
  EXPECT_THAT(std::string(ResizeBicubic(Image8{1, 1, 2, {1, 2}}, 1, 1).status().message()),
              HasSubstr("2 channels"));
  EXPECT_EQ(ResizeBicubic(Image8{1, 1, 1, {1}}, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::evaluator

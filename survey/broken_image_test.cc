#include "survey/broken_image.h"

#include "core/png.h"
#include "gtest/gtest.h"

namespace dreamshot::survey {
namespace {

core::PngImage Gradient(int w, int h) {
  core::PngImage image;
  image.width = w;
  image.height = h;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      image.pixels.push_back(static_cast<uint8_t>(x * 255 / w));
      image.pixels.push_back(static_cast<uint8_t>(y * 255 / h));
      image.pixels.push_back(100);
    }
  }
  image.texts = {{"parameters", "a prompt"}};
  return image;
}

TEST(BrokenImageTest, SameSizeEveryTileMovedOrInverted) {
  const core::PngImage intact = Gradient(64, 48);
  auto png = core::EncodePng(intact);
  ASSERT_TRUE(png.ok());
  auto broken_png = BreakImage(*png);
  ASSERT_TRUE(broken_png.ok()) << broken_png.status();
  auto broken = core::DecodePng(*broken_png);
  ASSERT_TRUE(broken.ok());
  EXPECT_EQ(broken->width, 64);
  EXPECT_EQ(broken->height, 48);
  EXPECT_EQ(broken->channels, 3);
  EXPECT_TRUE(broken->texts.empty()) << "the prompt does not travel into the broken copy";
  // Tile (0, 0) holds tile 5 = (1, 1): its top-left pixel is intact (1,1)'s.
  const auto px = [](const core::PngImage& im, int x, int y, int k) { return im.pixels[(y * im.width + x) * 3 + k]; };
  EXPECT_EQ(px(*broken, 0, 0, 0), px(intact, 16, 12, 0));
  EXPECT_EQ(px(*broken, 0, 0, 1), px(intact, 16, 12, 1));
  // Tile (0, 1) holds tile 12 = (3, 0), inverted.
  EXPECT_EQ(px(*broken, 16, 0, 0), 255 - px(intact, 0, 36, 0));
  // Far from the original everywhere: mean absolute difference.
  double diff = 0;
  for (size_t i = 0; i < intact.pixels.size(); ++i) diff += std::abs(intact.pixels[i] - broken->pixels[i]);
  EXPECT_GT(diff / intact.pixels.size(), 60.0);
  EXPECT_EQ(*BreakImage(*png), *broken_png) << "deterministic";
}

TEST(BrokenImageTest, RefusesWhatItCannotBreak) {
  EXPECT_EQ(BreakImage("not a png").status().code(), absl::StatusCode::kInvalidArgument);
  auto tiny = core::EncodePng(Gradient(3, 3));
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(BreakImage(*tiny).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::survey

#include "survey/blind_image.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/png.h"
#include "core/png_chunks.h"

namespace dreamshot::survey {
namespace {

core::PngImage Picture(int channels, uint8_t seed) {
  core::PngImage image;
  image.width = 5;
  image.height = 3;
  image.channels = channels;
  for (int i = 0; i < 5 * 3 * channels; ++i) image.pixels.push_back(static_cast<uint8_t>(seed + 37 * i));
  return image;
}

TEST(BlindImageTest, DropsEveryTextAndKeepsThePixels) {
  core::PngImage image = Picture(3, 1);
  image.texts = {{"parameters", "Model: tiny2, Lora hashes: \"valid: f5557cced177\""}, {"Software", "dreamshot"}};
  const std::string stored = *core::EncodePng(image);
  ASSERT_NE(stored.find("f5557cced177"), std::string::npos);

  absl::StatusOr<std::string> blind = BlindImagePng(stored);
  ASSERT_TRUE(blind.ok()) << blind.status();
  EXPECT_EQ(core::PngChunkTypes(*blind), (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  EXPECT_EQ(blind->find("tiny2"), std::string::npos);
  EXPECT_EQ(blind->find("f5557cced177"), std::string::npos);
  absl::StatusOr<core::PngImage> back = core::DecodePng(*blind);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pixels, image.pixels);
  EXPECT_TRUE(back->texts.empty());
}

TEST(BlindImageTest, EveryFormatBecomesEightBitRgb) {
  // Grey, RGBA and a 16-bit OpenCV PNG come out in one format: the IHDR
  // after width and height (bit depth 8, colour type 2, no interlace) is
  // the same for all.
  core::PngImage rgba = Picture(4, 3);
  rgba.pixels[3] = 0;  // a transparent pixel shows white
  std::vector<uchar> sixteen;
  cv::Mat wide(3, 5, CV_16UC3, cv::Scalar(65535, 0, 257 * 10));
  ASSERT_TRUE(cv::imencode(".png", wide, sixteen));
  const std::vector<std::string> stored = {*core::EncodePng(Picture(1, 2)), *core::EncodePng(rgba),
                                           std::string(sixteen.begin(), sixteen.end())};
  for (const std::string& s : stored) {
    absl::StatusOr<std::string> blind = BlindImagePng(s);
    ASSERT_TRUE(blind.ok()) << blind.status();
    EXPECT_EQ(blind->substr(8 + 8 + 8, 5), std::string("\x08\x02\x00\x00\x00", 5));
    EXPECT_EQ(core::PngChunkTypes(*blind), (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  }
  absl::StatusOr<core::PngImage> white = core::DecodePng(*BlindImagePng(stored[1]));
  EXPECT_EQ(white->pixels[0], 255);
  absl::StatusOr<core::PngImage> from16 = core::DecodePng(*BlindImagePng(stored[2]));
  EXPECT_EQ((std::vector<uint8_t>(from16->pixels.begin(), from16->pixels.begin() + 3)),
            (std::vector<uint8_t>{10, 0, 255}));  // BGR in OpenCV, RGB out
}

TEST(BlindImageTest, RefusesBytesThatAreNoPicture) {
  EXPECT_EQ(BlindImagePng("not a picture").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BlindImageCacheTest, EncodesOncePerArtifactAndEvictsTheLeastRecentlyUsed) {
  const std::string stored = *core::EncodePng(Picture(3, 9));
  const size_t size = BlindImagePng(stored)->size();
  BlindImageCache cache(2 * size);
  int reads = 0;
  auto read = [&] {
    ++reads;
    return absl::StatusOr<std::string>(stored);
  };
  ASSERT_TRUE(cache.Get(1, read).ok());
  ASSERT_TRUE(cache.Get(1, read).ok());
  EXPECT_EQ(reads, 1);
  ASSERT_TRUE(cache.Get(2, read).ok());
  ASSERT_TRUE(cache.Get(1, read).ok());  // 1 is now the most recent
  ASSERT_TRUE(cache.Get(3, read).ok());  // evicts 2
  EXPECT_EQ(reads, 3);
  ASSERT_TRUE(cache.Get(1, read).ok());
  EXPECT_EQ(reads, 3);
  ASSERT_TRUE(cache.Get(2, read).ok());
  EXPECT_EQ(reads, 4);
  // Errors are not cached.
  auto failing = [&] { return absl::StatusOr<std::string>(absl::NotFoundError("blob gone")); };
  EXPECT_EQ(cache.Get(7, failing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(cache.Get(7, read).ok());
}

}  // namespace
}  // namespace dreamshot::survey

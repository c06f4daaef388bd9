#include "core/png.h"

#include <gtest/gtest.h>

#include <random>

namespace dreamshot::core {
namespace {

PngImage Gradient(int64_t w, int64_t h, int channels) {
  PngImage image;
  image.width = w;
  image.height = h;
  image.channels = channels;
  std::mt19937 rng(3);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int c = 0; c < channels; ++c) {
        // Smooth areas (Sub/Up/Paeth win) next to noise (None wins).
        image.pixels.push_back(x < w / 2 ? static_cast<uint8_t>(x * 3 + y * 2 + c * 40) : static_cast<uint8_t>(rng()));
      }
    }
  }
  return image;
}

TEST(PngTest, RoundTripsPixelsAndTextForEveryChannelCount) {
  for (int channels : {1, 3, 4}) {
    PngImage image = Gradient(37, 23, channels);
    image.texts = {{"parameters", "Close Shot, a man\nNegative prompt: blurry\nSteps: 20, Seed: 7"},
                   {"Comment", "naïve café"},            // Latin-1: tEXt
                   {"prompt_ja", "クローズショット"}};   // not Latin-1: iTXt
    auto bytes = EncodePng(image);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto decoded = DecodePng(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->width, 37);
    EXPECT_EQ(decoded->height, 23);
    EXPECT_EQ(decoded->channels, channels);
    EXPECT_EQ(decoded->pixels, image.pixels);
    EXPECT_EQ(decoded->texts, image.texts);
    EXPECT_NE(bytes->find("tEXtComment"), std::string::npos);
    EXPECT_NE(bytes->find("iTXtprompt_ja"), std::string::npos);
  }
}

TEST(PngTest, SmoothImagesCompress) {
  PngImage image;
  image.width = image.height = 256;
  for (int y = 0; y < 256; ++y) {
    for (int x = 0; x < 256; ++x) image.pixels.insert(image.pixels.end(), {uint8_t(x), uint8_t(y), uint8_t(x ^ y)});
  }
  auto bytes = EncodePng(image);
  ASSERT_TRUE(bytes.ok());
  EXPECT_LT(bytes->size(), image.pixels.size() / 4);
}

TEST(PngTest, ErrorsNameTheProblem) {
  PngImage image = Gradient(4, 4, 3);
  image.pixels.pop_back();
  EXPECT_NE(EncodePng(image).status().message().find("does not match 47 pixel bytes"), std::string::npos);
  image = Gradient(4, 4, 2 + 1);
  image.texts = {{"", "x"}};
  EXPECT_NE(EncodePng(image).status().message().find("keyword"), std::string::npos);

  EXPECT_NE(DecodePng("GIF89a....").status().message().find("bad signature"), std::string::npos);
  image.texts.clear();
  std::string bytes = *EncodePng(image);
  bytes[20] ^= 1;  // inside IHDR
  EXPECT_NE(DecodePng(bytes).status().message().find("bad CRC in IHDR"), std::string::npos);
  EXPECT_NE(DecodePng(EncodePng(image)->substr(0, 40)).status().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace dreamshot::core

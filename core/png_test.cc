#include "core/png.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "core/png_chunks.h"

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

TEST(PngTest, WritesOnlyHeaderTextsOneIdatAndEnd) {
  // Noise compresses badly: far more than libpng's default 8 KiB IDAT.
  PngImage image = Gradient(300, 200, 4);
  image.texts = {{"parameters", "Steps: 20"}, {"prompt_ja", "クローズショット"}};
  auto bytes = EncodePng(image);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_GT(bytes->size(), 64u * 1024);
  EXPECT_EQ(PngChunkTypes(*bytes), (std::vector<std::string>{"IHDR", "tEXt", "iTXt", "IDAT", "IEND"}));
  image.texts.clear();
  EXPECT_EQ(PngChunkTypes(*EncodePng(image)), (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
}

TEST(PngTest, TheSameImageGivesTheSameBytes) {
  PngImage image = Gradient(64, 48, 3);
  image.texts = {{"parameters", "Seed: 7"}};
  auto first = EncodePng(image);
  auto second = EncodePng(image);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  // Decoding and encoding again reproduces the file too.
  EXPECT_EQ(*EncodePng(*DecodePng(*first)), *first);
}

TEST(PngTest, RefusesUnsupportedFormatsAndImpossibleSizes) {
  std::string bytes = *EncodePng(Gradient(4, 4, 3));
  // IHDR data starts at byte 16: width, height, depth, colour type. 16-bit
  // needs a new CRC, which libpng checks first; the size check comes after
  // the header is read, so a forged size with a valid CRC is what matters.
  auto with_ihdr = [&](uint32_t width, uint32_t height, uint8_t depth) {
    std::string forged = bytes;
    for (int i = 0; i < 4; ++i) {
      forged[16 + i] = static_cast<char>(width >> (24 - 8 * i));
      forged[20 + i] = static_cast<char>(height >> (24 - 8 * i));
    }
    forged[24] = static_cast<char>(depth);
    const uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(forged.data() + 12), 17);
    for (int i = 0; i < 4; ++i) forged[29 + i] = static_cast<char>(crc >> (24 - 8 * i));
    return forged;
  };
  EXPECT_NE(DecodePng(with_ihdr(4, 4, 16)).status().message().find("unsupported format (bit depth 16"),
            std::string::npos);
  EXPECT_NE(DecodePng(with_ihdr(900000, 900000, 8)).status().message().find("cannot fit"), std::string::npos);
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
  // Keywords libpng would rewrite (trimmed or collapsed spaces, control
  // characters) are refused rather than read back under another name.
  for (const char* keyword : {" lead", "trail ", "two  spaces", "tab\there"}) {
    image.texts = {{keyword, "x"}};
    EXPECT_NE(EncodePng(image).status().message().find("keyword"), std::string::npos) << keyword;
  }
  image.texts = {{"parameters", std::string("a\0b", 3)}};
  EXPECT_NE(EncodePng(image).status().message().find("NUL"), std::string::npos);

  EXPECT_NE(DecodePng("GIF89a....").status().message().find("bad signature"), std::string::npos);
  image.texts.clear();
  std::string bytes = *EncodePng(image);
  bytes[20] ^= 1;  // inside IHDR
  EXPECT_NE(DecodePng(bytes).status().message().find("IHDR: CRC error"), std::string::npos);
  EXPECT_NE(DecodePng(EncodePng(image)->substr(0, 40)).status().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace dreamshot::core

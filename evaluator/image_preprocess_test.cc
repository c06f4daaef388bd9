// CLIP and DINO preprocessing against the reference pixel_values (computed
// by transformers' CLIPImageProcessor and torchvision from the same PNGs),
// and the sizing, crop rounding, letterbox and description rules by hand.
#include "evaluator/image_preprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/safetensors.h"
#include "core/testdata_paths.h"

namespace dreamshot::evaluator {
namespace {

using ::testing::HasSubstr;

std::vector<Image8> ReferenceImages() {
  std::vector<Image8> images;
  for (const char* name : {"images/img0_320x240_RGB.png", "images/img1_180x260_RGB.png",
                           "images/img2_250x250_L.png"}) {
    absl::StatusOr<Image8> image = ReadPngImage(core::ReferencePath(name));
    EXPECT_TRUE(image.ok()) << image.status();
    if (image.ok()) images.push_back(*std::move(image));
  }
  return images;
}

at::Tensor ReferencePixels(const std::string& file) {
  auto io = core::SafetensorsFile::Open(core::ReferencePath(file));
  EXPECT_TRUE(io.ok()) << io.status();
  auto pixels = io->Load("pixel_values");
  EXPECT_TRUE(pixels.ok()) << pixels.status();
  return *pixels;
}

std::pair<int64_t, int64_t> Size(int64_t width, int64_t height) { return {width, height}; }

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(ImagePreprocessTest, ClipMatchesTransformersPixelValues) {
  const std::vector<Image8> images = ReferenceImages();
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[2].channels, 1);  // the grey PNG goes through convert("RGB")
  auto pixels = PreprocessBatch(images, ClipPreprocessing());
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  const at::Tensor want = ReferencePixels("cases/clip_io.safetensors");
  ASSERT_EQ(pixels->sizes(), want.sizes());
  // One uint8 level is ~0.015 after normalisation: anything above float
  // rounding means a different resampled pixel.
  EXPECT_LE(MaxAbsDiff(*pixels, want), 1e-6);
}

TEST(ImagePreprocessTest, DinoMatchesTorchvisionPixelValues) {
  auto pixels = PreprocessBatch(ReferenceImages(), DinoPreprocessing());
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  const at::Tensor want = ReferencePixels("cases/dino_io.safetensors");
  ASSERT_EQ(pixels->sizes(), want.sizes());
  EXPECT_LE(MaxAbsDiff(*pixels, want), 1e-6);
}

TEST(ImagePreprocessTest, ShortestSideAndCropOffsets) {
  EXPECT_EQ(ShortestSideSize(320, 240, 224), Size(298, 224));  // int(298.67)
  EXPECT_EQ(ShortestSideSize(180, 260, 224), Size(224, 323));  // int(323.56)
  EXPECT_EQ(ShortestSideSize(250, 250, 256), Size(256, 256));
  EXPECT_EQ(ShortestSideSize(224, 999, 224), Size(224, 999));  // no resize
  EXPECT_EQ(ShortestSideSize(320, 240, 256), Size(341, 256));
  // CLIP floors; torchvision rounds half to even: (341 − 224) / 2 = 58.5 → 58,
  // (369 − 224) / 2 = 72.5 → 72, but 73.5 → 74.
  EXPECT_EQ(CropOffset(298, 224, CropRounding::kFloor), 37);
  EXPECT_EQ(CropOffset(371, 224, CropRounding::kFloor), 73);
  EXPECT_EQ(CropOffset(341, 224, CropRounding::kRoundHalfEven), 58);
  EXPECT_EQ(CropOffset(369, 224, CropRounding::kRoundHalfEven), 72);
  EXPECT_EQ(CropOffset(371, 224, CropRounding::kRoundHalfEven), 74);
  EXPECT_EQ(CropOffset(226, 224, CropRounding::kRoundHalfEven), 1);
}

// A spec without resizing (the image's shortest side is already the
// target) shows the letterbox alone: the 8×4 image centred in an 8×8
// square of the pad colour.
TEST(ImagePreprocessTest, LetterboxPadsToASquareWithTheRecordedColour) {
  Image8 wide{8, 4, 3, std::vector<uint8_t>(8 * 4 * 3, 77)};
  PreprocessSpec spec = ClipPreprocessing();
  spec.resize_shortest = spec.crop_size = 8;
  ASSERT_TRUE(ParseFraming("letterbox:#102030", &spec).ok());
  auto framed = FrameResizeCrop(wide, spec);
  ASSERT_TRUE(framed.ok()) << framed.status();
  ASSERT_EQ(framed->width, 8);
  ASSERT_EQ(framed->height, 8);
  for (int64_t y = 0; y < 8; ++y) {
    const bool pad = y < 2 || y >= 6;
    for (int64_t x = 0; x < 8; ++x) {
      const uint8_t* p = &framed->pixels[(y * 8 + x) * 3];
      if (pad) {
        EXPECT_EQ(p[0], 0x10);
        EXPECT_EQ(p[1], 0x20);
        EXPECT_EQ(p[2], 0x30);
      } else {
        EXPECT_EQ(p[0], 77);
      }
    }
  }
  // Cropping the same image instead keeps its middle 4×4.
  ASSERT_TRUE(ParseFraming("crop", &spec).ok());
  spec.resize_shortest = spec.crop_size = 4;
  framed = FrameResizeCrop(wide, spec);
  ASSERT_TRUE(framed.ok());
  EXPECT_EQ(framed->width, 4);
  EXPECT_EQ(framed->pixels, std::vector<uint8_t>(4 * 4 * 3, 77));
}

TEST(ImagePreprocessTest, GreyIsReplicatedIntoRgb) {
  Image8 grey{300, 260, 1, {}};
  Image8 rgb{300, 260, 3, {}};
  for (int i = 0; i < 300 * 260; ++i) {
    const uint8_t v = static_cast<uint8_t>((i * 37) % 251);
    grey.pixels.push_back(v);
    rgb.pixels.insert(rgb.pixels.end(), {v, v, v});
  }
  auto a = Preprocess(grey, DinoPreprocessing());
  auto b = Preprocess(rgb, DinoPreprocessing());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(torch::equal(*a, *b));
}

TEST(ImagePreprocessTest, DescriptionsNameEveryChoice) {
  EXPECT_EQ(ClipPreprocessing().Describe(),
            "clip: rgb, resize shortest 224 pil-bicubic uint8, center-crop 224 floor, /255, "
            "mean [0.48145466, 0.4578275, 0.40821073], std [0.26862954, 0.26130258, 0.27577711]");
  EXPECT_EQ(DinoPreprocessing(Framing::kLetterbox, {255, 255, 255}).Describe(),
            "dino: rgb, letterbox #ffffff, resize shortest 256 pil-bicubic uint8, center-crop 224 round-half-even, "
            "/255, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]");
  PreprocessSpec spec = DinoPreprocessing();
  EXPECT_THAT(std::string(ParseFraming("pad", &spec).message()), HasSubstr("framing 'pad'"));
  EXPECT_FALSE(ParseFraming("letterbox:#12345", &spec).ok());
  ASSERT_TRUE(ParseFraming("letterbox", &spec).ok());
  EXPECT_THAT(spec.Describe(), HasSubstr("letterbox #000000"));
}

TEST(ImagePreprocessTest, BadImagesAreNamedByIndex) {
  std::vector<Image8> images = {Image8{300, 300, 3, std::vector<uint8_t>(300 * 300 * 3)}, Image8{2, 2, 3, {}}};
  auto batch = PreprocessBatch(images, ClipPreprocessing());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(batch.status().message()), HasSubstr("image 1: "));
  EXPECT_EQ(ReadPngImage("/nonexistent/x.png").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(DecodePngImage("not a png", "x.png").status().message()), HasSubstr("x.png: "));
}

}  // namespace
}  // namespace dreamshot::evaluator

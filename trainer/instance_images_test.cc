// Folder reading, resizing and cropping, prompt templates, and encoding on
// the tiny reference VAE and text encoder, with broken and tiny images
// skipped by name.
#include "trainer/instance_images.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <opencv2/imgcodecs.hpp>

#include "core/testdata_paths.h"
#include "models/load_model.h"

namespace dreamshot::trainer {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class InstanceImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/instance-images-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // 100 wide, 50 high: left half black, right half white.
    cv::Mat halves(50, 100, CV_8UC3, cv::Scalar(0, 0, 0));
    halves(cv::Rect(50, 0, 50, 50)).setTo(cv::Scalar(255, 255, 255));
    cv::imwrite(dir_ + "/b_halves.png", halves);
    std::ofstream(dir_ + "/b_halves.txt") << "  a man at a desk \n";
    cv::imwrite(dir_ + "/a_plain.jpg", cv::Mat(80, 80, CV_8UC3, cv::Scalar(0, 0, 255)));  // red
    cv::imwrite(dir_ + "/c_tiny.png", cv::Mat(8, 8, CV_8UC3, cv::Scalar(9, 9, 9)));
    std::ofstream(dir_ + "/d_broken.png") << "not a png";
    std::ofstream(dir_ + "/notes.md") << "ignored";
  }
  std::string dir_;
};

TEST_F(InstanceImagesTest, ListsImagesByNameWithTheirCaptions) {
  auto images = ListImageFolder(dir_);
  ASSERT_TRUE(images.ok()) << images.status();
  std::vector<std::string> names, captions;
  for (const auto& i : *images) {
    names.push_back(fs::path(i.path).filename().string());
    captions.push_back(i.caption);
  }
  EXPECT_THAT(names, ElementsAre("a_plain.jpg", "b_halves.png", "c_tiny.png", "d_broken.png"));
  EXPECT_THAT(captions, ElementsAre("", "a man at a desk", "", ""));
  EXPECT_EQ(ListImageFolder(dir_ + "/nope").status().code(), absl::StatusCode::kNotFound);
  fs::create_directories(dir_ + "/empty");
  EXPECT_THAT(std::string(ListImageFolder(dir_ + "/empty").status().message()), HasSubstr("holds no image"));
}

TEST_F(InstanceImagesTest, ImagesAreResizedByTheShorterSideCentreCroppedAndScaledToPlusMinusOne) {
  auto pixels = LoadTrainingImage(dir_ + "/b_halves.png", 32);
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  EXPECT_EQ(pixels->sizes(), (std::vector<int64_t>{3, 32, 32}));
  // 100x50 → 64x32, centre 32 columns: 16 black then 16 white.
  EXPECT_NEAR(pixels->index({0, 16, 2}).item<float>(), -1.0f, 1e-6);
  EXPECT_NEAR(pixels->index({0, 16, 29}).item<float>(), 1.0f, 1e-6);
  auto red = LoadTrainingImage(dir_ + "/a_plain.jpg", 32);
  ASSERT_TRUE(red.ok());
  EXPECT_GT(red->index({0, 5, 5}).item<float>(), 0.9f);   // R
  EXPECT_LT(red->index({2, 5, 5}).item<float>(), -0.9f);  // B: RGB order, not OpenCV's BGR
  EXPECT_THAT(std::string(LoadTrainingImage(dir_ + "/c_tiny.png", 32).status().message()),
              HasSubstr("8x8 is too small"));
  EXPECT_THAT(std::string(LoadTrainingImage(dir_ + "/d_broken.png", 32).status().message()),
              HasSubstr("d_broken.png: not a readable image"));
  EXPECT_THAT(std::string(LoadTrainingImage(dir_ + "/a_plain.jpg", 30).status().message()),
              HasSubstr("multiple of 8"));
}

// A baseline JPEG with an APP1 Exif segment holding only the orientation
// tag, placed after SOI as cameras write it.
std::string JpegWithOrientation(const cv::Mat& bgr, uint16_t orientation) {
  std::vector<uchar> jpeg;
  EXPECT_TRUE(cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95}));
  const unsigned char exif[] = {
      0xFF, 0xE1, 0x00, 0x22,                     // APP1, 34 bytes with the length field
      'E',  'x',  'i',  'f',  0x00, 0x00,         // Exif header
      'M',  'M',  0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,  // big-endian TIFF, IFD0 at 8
      0x00, 0x01,                                 // one entry
      0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,  // Orientation, SHORT, count 1
      static_cast<unsigned char>(orientation >> 8), static_cast<unsigned char>(orientation & 0xFF), 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00};  // no next IFD
  std::string out(reinterpret_cast<const char*>(jpeg.data()), 2);  // SOI
  out.append(reinterpret_cast<const char*>(exif), sizeof(exif));
  out.append(reinterpret_cast<const char*>(jpeg.data()) + 2, jpeg.size() - 2);
  return out;
}

TEST_F(InstanceImagesTest, JpegExifOrientationIsApplied) {
  // Stored 64 wide and 32 high, left half black; orientation 6 says "turn
  // 90° clockwise to view", which makes it 32 wide and 64 high with the
  // black half on top.
  cv::Mat stored(32, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  stored(cv::Rect(32, 0, 32, 32)).setTo(cv::Scalar(255, 255, 255));
  std::ofstream(dir_ + "/turned.jpg", std::ios::binary) << JpegWithOrientation(stored, 6);
  std::ofstream(dir_ + "/upright.jpg", std::ios::binary) << JpegWithOrientation(stored, 1);
  AppliedTransform applied;
  auto turned = LoadTrainingImage(dir_ + "/turned.jpg", 32, 16, {}, &applied);
  ASSERT_TRUE(turned.ok()) << turned.status();
  EXPECT_EQ(applied.resized_width, 32);
  EXPECT_EQ(applied.resized_height, 64);
  // The centre 32 rows of 64: black above the middle, white below.
  EXPECT_LT(turned->index({0, 3, 16}).item<float>(), -0.9f);
  EXPECT_GT(turned->index({0, 28, 16}).item<float>(), 0.9f);
  auto upright = LoadTrainingImage(dir_ + "/upright.jpg", 32, 16, {}, &applied);
  ASSERT_TRUE(upright.ok()) << upright.status();
  EXPECT_EQ(applied.resized_width, 64);
  EXPECT_LT(upright->index({0, 16, 3}).item<float>(), -0.9f);
  EXPECT_GT(upright->index({0, 16, 28}).item<float>(), 0.9f);
}

// 100x50 with a horizontal ramp, so every column differs.
cv::Mat Ramp() {
  cv::Mat ramp(50, 100, CV_8UC3);
  for (int x = 0; x < 100; ++x) ramp.col(x).setTo(cv::Scalar(2 * x, 255 - 2 * x, x));
  return ramp;
}

TEST_F(InstanceImagesTest, RandomCropsAndFlipsAreSeededPerImageContent) {
  cv::imwrite(dir_ + "/ramp.png", Ramp());
  cv::imwrite(dir_ + "/ramp_copy.png", Ramp());
  AppliedTransform centre_applied;
  auto centre = LoadTrainingImage(dir_ + "/ramp.png", 32, -1, {}, &centre_applied);
  ASSERT_TRUE(centre.ok());
  EXPECT_EQ(centre_applied.left, 16);  // 100x50 → 64x32: (64 - 32) / 2
  EXPECT_FALSE(centre_applied.flipped);
  std::set<int64_t> lefts;
  std::set<bool> flips;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    ImageTransform crop{CropMode::kRandom, false, seed};
    AppliedTransform a, b;
    auto first = LoadTrainingImage(dir_ + "/ramp.png", 32, -1, crop, &a);
    auto again = LoadTrainingImage(dir_ + "/ramp_copy.png", 32, -1, crop, &b);  // same bytes, other name
    ASSERT_TRUE(first.ok() && again.ok());
    EXPECT_EQ(a.left, b.left);
    EXPECT_TRUE(torch::equal(*first, *again));
    EXPECT_EQ(a.top, 0);
    ASSERT_GE(a.left, 0);
    ASSERT_LE(a.left, 32);
    lefts.insert(a.left);
    // The crop is the resized image's columns [left, left + 32).
    const int64_t from = std::max<int64_t>(a.left, 16), to = std::min<int64_t>(a.left, 16) + 32;
    EXPECT_TRUE(torch::equal(first->narrow(2, from - a.left, to - from), centre->narrow(2, from - 16, to - from)))
        << "seed " << seed;
    // The flip is drawn after the crop: the same crop, mirrored or not.
    ImageTransform both{CropMode::kRandom, true, seed};
    AppliedTransform c;
    auto flipped = LoadTrainingImage(dir_ + "/ramp.png", 32, -1, both, &c);
    ASSERT_TRUE(flipped.ok());
    EXPECT_EQ(c.left, a.left);
    EXPECT_TRUE(torch::equal(*flipped, c.flipped ? first->flip({2}) : *first)) << "seed " << seed;
    flips.insert(c.flipped);
  }
  EXPECT_GT(lefts.size(), 4u);
  EXPECT_EQ(flips.size(), 2u);
}

TEST(FillPromptTest, TemplatesTakeTokenScaleAndCaption) {
  EXPECT_EQ(FillPrompt("a {token} {scale} shot, {caption}", "sks", "close", "a man at a desk"),
            "a sks close shot, a man at a desk");
  EXPECT_EQ(FillPrompt("a {token} {scale} shot, {caption}", "sks", "long", ""), "a sks long shot");
  EXPECT_EQ(FillPrompt("a {scale} shot, {caption}", "sks", "medium", "two people"), "a medium shot, two people");
}

TEST_F(InstanceImagesTest, EncodesLatentsAndTextAndSkipsWhatCannotBeUsed) {
  auto vae = models::LoadModelFromFolder<models::vae::AutoencoderKL>(core::ReferencePath("tiny_sd/vae"),
                                                                     core::DeviceSpec{});
  ASSERT_TRUE(vae.ok()) << vae.status();
  auto text = models::LoadModelFromFolder<models::clip::ClipTextModel>(core::ReferencePath("tiny_sd/text_encoder"),
                                                                       core::DeviceSpec{});
  ASSERT_TRUE(text.ok()) << text.status();
  auto tokenizer = models::clip::ClipTokenizer::FromFolder(core::ReferencePath("tiny_sd/tokenizer"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto listed = ListImageFolder(dir_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<PromptedImage> images;
  for (const auto& i : *listed) images.push_back({i.path, FillPrompt("a sks shot, {caption}", "", "", i.caption)});
  at::Generator generator = at::detail::createCPUGenerator(1);
  EncodingReport report;
  auto examples = EncodeImages(**vae, *tokenizer, **text, images, 32, generator, &report);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 2u);
  const int64_t f = (*vae)->config().downscale_factor();
  EXPECT_EQ((*examples)[0].latents.sizes(), (std::vector<int64_t>{(*vae)->config().latent_channels, 32 / f, 32 / f}));
  EXPECT_EQ((*examples)[0].text.size(0), 77);
  ASSERT_EQ(report.skipped.size(), 2u);
  EXPECT_THAT(report.skipped[0], HasSubstr("c_tiny.png"));
  EXPECT_THAT(report.skipped[1], HasSubstr("d_broken.png"));
  // Same seed, same latents.
  at::Generator again = at::detail::createCPUGenerator(1);
  auto twice = EncodeImages(**vae, *tokenizer, **text, images, 32, again, nullptr);
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(torch::equal((*examples)[1].latents, (*twice)[1].latents));
}

}  // namespace
}  // namespace dreamshot::trainer

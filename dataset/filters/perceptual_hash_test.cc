#include "dataset/filters/perceptual_hash.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "dataset/filters/test_images.h"

namespace dreamshot::dataset::filters {
namespace {

using testing::Gradient;
using testing::LoadSample;
using testing::NoiseTexture;

// The dedup threshold (hash_index.h kDefaultDedupDistance); spelled out here
// so this test does not depend on the index.
constexpr int kNear = 6;

cv::Mat Jpeg(const cv::Mat& image, int quality) {
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

uint64_t PHash(const cv::Mat& image) {
  absl::StatusOr<uint64_t> hash = PerceptualHash(image);
  EXPECT_TRUE(hash.ok()) << hash.status();
  return hash.value_or(0);
}

uint64_t DHash(const cv::Mat& image) {
  absl::StatusOr<uint64_t> hash = DifferenceHash(image);
  EXPECT_TRUE(hash.ok()) << hash.status();
  return hash.value_or(0);
}

const std::vector<std::string>& Photos() {
  static const auto* photos = new std::vector<std::string>{
      "messi5.jpg", "baboon.jpg",       "fruits.jpg", "starry_night.jpg", "building.jpg",
      "home.jpg",   "squirrel_cls.jpg", "orange.jpg", "butterfly.jpg",    "aero1.jpg"};
  return *photos;
}

TEST(PerceptualHashTest, EditsOfTheSamePhotoStayNear) {
  for (const std::string& name : Photos()) {
    absl::StatusOr<cv::Mat> photo = LoadSample(name);
    ASSERT_TRUE(photo.ok()) << photo.status();
    const uint64_t p = PHash(*photo);
    cv::Mat half, double_size, brighter, contrast;
    cv::resize(*photo, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    cv::resize(*photo, double_size, cv::Size(), 2.0, 2.0, cv::INTER_CUBIC);
    photo->convertTo(brighter, -1, 1.0, 20);
    photo->convertTo(contrast, -1, 1.1, -5);
    const struct {
      const char* edit;
      cv::Mat image;
    } edits[] = {{"half size", half},
                 {"double size", double_size},
                 {"JPEG q40", Jpeg(*photo, 40)},
                 {"brightness +20", brighter},
                 {"contrast x1.1", contrast}};
    for (const auto& e : edits) {
      EXPECT_LE(HammingDistance(p, PHash(e.image)), kNear) << name << ", " << e.edit;
      EXPECT_LE(HammingDistance(DHash(*photo), DHash(e.image)), 10) << name << ", " << e.edit;
    }
  }
}

TEST(PerceptualHashTest, DifferentPhotosAreFarApart) {
  std::vector<uint64_t> p, d;
  for (const std::string& name : Photos()) {
    absl::StatusOr<cv::Mat> photo = LoadSample(name);
    ASSERT_TRUE(photo.ok()) << photo.status();
    p.push_back(PHash(*photo));
    d.push_back(DHash(*photo));
  }
  for (size_t i = 0; i < p.size(); ++i) {
    for (size_t j = i + 1; j < p.size(); ++j) {
      EXPECT_GT(HammingDistance(p[i], p[j]), 2 * kNear) << Photos()[i] << " vs " << Photos()[j];
      EXPECT_GT(HammingDistance(d[i], d[j]), 2 * kNear) << Photos()[i] << " vs " << Photos()[j];
    }
  }
}

TEST(PerceptualHashTest, LayoutDoesNotChangeTheHash) {
  absl::StatusOr<cv::Mat> photo = LoadSample("baboon.jpg");
  ASSERT_TRUE(photo.ok()) << photo.status();
  cv::Mat grey, bgra, bgr16;
  cv::cvtColor(*photo, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(*photo, bgra, cv::COLOR_BGR2BGRA);
  photo->convertTo(bgr16, CV_16U, 257.0);
  for (const cv::Mat& image : {grey, bgra, bgr16}) {
    EXPECT_EQ(PHash(image), PHash(*photo));
    EXPECT_EQ(DHash(image), DHash(*photo));
  }
}

TEST(PerceptualHashTest, BitLayout) {
  // Median thresholding of the 63 AC coefficients sets 31 bits; DC (bit 0)
  // is never set.
  for (uint64_t seed : {1, 2, 3}) {
    const uint64_t p = PHash(NoiseTexture(640, 360, seed));
    EXPECT_EQ(__builtin_popcountll(p), 31) << HashToHex(p);
    EXPECT_EQ(p & 1, 0u);
  }
  // dHash of a left-to-right ramp: every pixel brighter than its left one.
  EXPECT_EQ(DHash(Gradient(900, 800)), ~uint64_t{0});
  cv::Mat flipped;
  cv::flip(Gradient(900, 800), flipped, 1);
  EXPECT_EQ(DHash(flipped), 0u);
}

TEST(PerceptualHashTest, HammingAndHex) {
  EXPECT_EQ(HammingDistance(0, 0), 0);
  EXPECT_EQ(HammingDistance(0, ~uint64_t{0}), 64);
  EXPECT_EQ(HammingDistance(0xF0F0, 0x0FF0), 8);
  EXPECT_EQ(HashToHex(0x00ab0000000000ffULL), "00ab0000000000ff");
  EXPECT_EQ(*HashFromHex("00AB0000000000FF"), 0x00ab0000000000ffULL);
  for (const char* bad : {"", "00ab", "00ab0000000000fg", "00ab0000000000ff0"}) {
    EXPECT_EQ(HashFromHex(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PerceptualHashTest, RefusesUnsupportedImages) {
  EXPECT_EQ(PerceptualHash(cv::Mat(32, 32, CV_8UC2)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DifferenceHash(cv::Mat()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset::filters

#include "dataset/filters/letterbox.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "dataset/filters/test_images.h"

namespace dreamshot::dataset::filters {
namespace {

using testing::DrawSubtitle;
using testing::LoadSample;
using testing::NoiseTexture;

// A 1920×1080 frame: noise-texture picture inside `content`, near-black
// bars around it with encoder-like noise (luma 8 ± 4).
cv::Mat Boxed(const Box& content, uint64_t seed = 1) {
  cv::Mat frame(1080, 1920, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(frame, cv::RNG::NORMAL, 8, 4);
  NoiseTexture(content.width, content.height, seed + 1)
      .copyTo(frame(cv::Rect(content.x, content.y, content.width, content.height)));
  return frame;
}

void ExpectBox(const cv::Mat& image, const Box& want, const LetterboxConfig& config = {}) {
  absl::StatusOr<Box> got = DetectContentBox(image, config);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_NEAR(got->x, want.x, 1);
  EXPECT_NEAR(got->y, want.y, 1);
  EXPECT_NEAR(got->width, want.width, 1);
  EXPECT_NEAR(got->height, want.height, 1);
}

TEST(LetterboxTest, Scope239InHd) {
  // 2.39:1 in 1920×1080: 803 rows of picture, bars of 138 and 139.
  const Box content{0, 138, 1920, 803};
  ExpectBox(Boxed(content), content);
}

TEST(LetterboxTest, Flat185InHdWithSaltNoiseInBars) {
  const Box content{0, 21, 1920, 1038};  // 1.85:1
  cv::Mat frame = Boxed(content, 2);
  cv::RNG rng(3);
  for (int i = 0; i < 300; ++i) {  // stray bright pixels (≈0.8% of a bar line)
    const int y = rng.uniform(0, 21), x = rng.uniform(0, 1920);
    frame.at<cv::Vec3b>(rng.uniform(0, 2) ? y : 1079 - y, x) = cv::Vec3b(255, 255, 255);
  }
  ExpectBox(frame, content);
}

TEST(LetterboxTest, SubtitlesInsideTheBottomBarDoNotShortenIt) {
  const Box content{0, 138, 1920, 803};
  cv::Mat frame = Boxed(content, 4);
  DrawSubtitle(frame, "I told you never to come back here.", 1080 - 80, 30);
  DrawSubtitle(frame, "Not after what happened in Lisbon.", 1080 - 30, 30);
  ExpectBox(frame, content);
}

TEST(LetterboxTest, PillarboxAndWindowbox) {
  const Box pillar{240, 0, 1440, 1080};  // 4:3 in 16:9
  ExpectBox(Boxed(pillar, 5), pillar);
  const Box window{240, 100, 1440, 880};
  ExpectBox(Boxed(window, 6), window);
}

TEST(LetterboxTest, NoBarsAndBlackFramesKeepTheWholeFrame) {
  const Box whole{0, 0, 1920, 1080};
  ExpectBox(Boxed(whole, 7), whole);
  ExpectBox(cv::Mat(1080, 1920, CV_8UC3, cv::Scalar::all(0)), whole);
}

TEST(LetterboxTest, DarkPictureNextToABarIsNotCut) {
  // The top 150 rows of the picture are a night sky (luma ≤ 20): black by
  // the line rule, so only symmetry tells sky from bar.
  const Box content{0, 138, 1920, 803};
  cv::Mat frame = Boxed(content, 8);
  cv::RNG rng(9);
  rng.fill(frame(cv::Rect(0, 138, 1920, 150)), cv::RNG::UNIFORM, 0, 20);
  ExpectBox(frame, content);
}

TEST(LetterboxTest, UnequalBarsAreBothCutToTheSmaller) {
  cv::Mat frame = Boxed(Box{0, 40, 1920, 940}, 10);  // bars 40 and 100
  ExpectBox(frame, Box{0, 40, 1920, 1000});
}

TEST(LetterboxTest, RealPhotoWithAddedBarsInEveryLayout) {
  absl::StatusOr<cv::Mat> messi = LoadSample("messi5.jpg");
  ASSERT_TRUE(messi.ok()) << messi.status();
  cv::Mat boxed;
  cv::copyMakeBorder(*messi, boxed, 60, 60, 0, 0, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  const Box want{0, 60, messi->cols, messi->rows};
  cv::Mat grey, bgra, grey16;
  cv::cvtColor(boxed, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(boxed, bgra, cv::COLOR_BGR2BGRA);
  grey.convertTo(grey16, CV_16U, 257.0);
  for (const cv::Mat& image : {boxed, grey, bgra, grey16}) ExpectBox(image, want);
}

TEST(LetterboxTest, RemoveLetterboxReturnsAViewOfTheContent) {
  const Box content{0, 138, 1920, 803};
  const cv::Mat frame = Boxed(content, 11);
  absl::StatusOr<LetterboxCrop> crop = RemoveLetterbox(frame);
  ASSERT_TRUE(crop.ok()) << crop.status();
  EXPECT_EQ(crop->image.size(), cv::Size(1920, 803));
  EXPECT_EQ(crop->image.data, frame.ptr(138));  // shares the frame's pixels
  EXPECT_EQ(crop->content.y, 138);
}

TEST(LetterboxTest, CropToBoxRefusesBoxesOutsideTheImage) {
  const cv::Mat image(100, 200, CV_8UC3, cv::Scalar::all(0));
  EXPECT_TRUE(CropToBox(image, Box{10, 10, 190, 90}).ok());
  for (const Box& bad : {Box{10, 10, 191, 90}, Box{-1, 0, 10, 10}, Box{0, 0, 0, 10}}) {
    absl::StatusOr<cv::Mat> crop = CropToBox(image, bad);
    EXPECT_EQ(crop.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(DetectContentBox(cv::Mat(4, 4, CV_8UC2)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset::filters

#include "dataset/filters/resize_crop.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <string>

#include "dataset/filters/test_images.h"

namespace dreamshot::dataset::filters {
namespace {

using testing::Gradient;
using testing::NoiseTexture;

void ExpectBoxEq(const Box& got, const Box& want) {
  EXPECT_EQ(got.x, want.x);
  EXPECT_EQ(got.y, want.y);
  EXPECT_EQ(got.width, want.width);
  EXPECT_EQ(got.height, want.height);
}

TEST(ResizeCropTest, CenterCropBoxIsTheLargestCentredBox) {
  ExpectBoxEq(CenterCropBox(Box{0, 0, 1920, 1080}, 1, 1), Box{420, 0, 1080, 1080});
  ExpectBoxEq(CenterCropBox(Box{0, 0, 1080, 1920}, 512, 512), Box{0, 420, 1080, 1080});
  ExpectBoxEq(CenterCropBox(Box{0, 0, 1920, 1080}, 16, 9), Box{0, 0, 1920, 1080});
  // 2.39:1 letterbox content at (0, 138): the square sits inside it.
  ExpectBoxEq(CenterCropBox(Box{0, 138, 1920, 803}, 1, 1), Box{558, 138, 803, 803});
  // Odd margin: the extra pixel goes right.
  ExpectBoxEq(CenterCropBox(Box{0, 0, 101, 100}, 1, 1), Box{0, 0, 100, 100});
  ExpectBoxEq(CenterCropBox(Box{0, 0, 103, 100}, 1, 1), Box{1, 0, 100, 100});
  // 3:2 portrait output from 1920×1080: 720×1080.
  ExpectBoxEq(CenterCropBox(Box{0, 0, 1920, 1080}, 2, 3), Box{600, 0, 720, 1080});
  EXPECT_TRUE(CenterCropBox(Box{0, 0, 0, 10}, 1, 1).empty());
  EXPECT_TRUE(CenterCropBox(Box{0, 0, 10, 10}, 0, 1).empty());
}

TEST(ResizeCropTest, DownscalesTheCentreSquareToTheTrainingSize) {
  // A horizontal ramp: the square crop's columns 420..1499 of 1920 hold
  // luma 55..199, so the output's first and last columns show that.
  absl::StatusOr<ResizedCrop> out = CenterCropAndResize(Gradient(1920, 1080));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->image.size(), cv::Size(512, 512));
  EXPECT_EQ(out->image.type(), CV_8UC3);
  ExpectBoxEq(out->crop, Box{420, 0, 1080, 1080});
  EXPECT_NEAR(out->image.at<cv::Vec3b>(256, 0)[0], 420 * 255 / 1919, 2);
  EXPECT_NEAR(out->image.at<cv::Vec3b>(256, 511)[0], 1499 * 255 / 1919, 2);
}

TEST(ResizeCropTest, AreaFilterWhenShrinkingKeepsTheMean) {
  // A 1-px checkerboard averages to grey under INTER_AREA; a point-sampling
  // filter would alias it into stripes or solid colour.
  cv::Mat checker(1024, 1024, CV_8UC1);
  for (int y = 0; y < checker.rows; ++y) {
    for (int x = 0; x < checker.cols; ++x) checker.at<uint8_t>(y, x) = (x + y) % 2 ? 255 : 0;
  }
  absl::StatusOr<ResizedCrop> out = CenterCropAndResize(checker);
  ASSERT_TRUE(out.ok()) << out.status();
  cv::Scalar mean, stddev;
  cv::meanStdDev(out->image, mean, stddev);
  EXPECT_NEAR(mean[0], 127.5, 1);
  EXPECT_LT(stddev[0], 2);
}

TEST(ResizeCropTest, ModestUpscaleWithinTheLetterboxRegion) {
  const cv::Mat frame = NoiseTexture(720, 576, 1);  // a PAL DVD frame
  const Box content{0, 73, 720, 430};               // 1.66:1 inside it
  absl::StatusOr<ResizedCrop> out = CenterCropAndResize(frame, content);
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectBoxEq(out->crop, Box{145, 73, 430, 430});
  EXPECT_EQ(out->image.size(), cv::Size(512, 512));
  // Lanczos keeps the texture's contrast (no heavy smoothing).
  cv::Scalar m_in, s_in, m_out, s_out;
  cv::meanStdDev(frame(cv::Rect(145, 73, 430, 430)), m_in, s_in);
  cv::meanStdDev(out->image, m_out, s_out);
  EXPECT_NEAR(s_out[0], s_in[0], 0.1 * s_in[0]);
}

TEST(ResizeCropTest, SameSizeIsACopyAndOtherLayoutsBecomeBgr) {
  cv::Mat grey16(512, 512, CV_16UC1, cv::Scalar(65535));
  absl::StatusOr<ResizedCrop> out = CenterCropAndResize(grey16);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->image.type(), CV_8UC3);
  EXPECT_EQ(out->image.at<cv::Vec3b>(100, 100), cv::Vec3b(255, 255, 255));
  ResizeCropConfig wide;
  wide.width = 768;
  wide.height = 432;
  absl::StatusOr<ResizedCrop> w = CenterCropAndResize(NoiseTexture(1920, 1080, 2), wide);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->image.size(), cv::Size(768, 432));
  ExpectBoxEq(w->crop, Box{0, 0, 1920, 1080});
}

TEST(ResizeCropTest, RefusesSmallCropsBadRegionsAndBadImages) {
  absl::StatusOr<ResizedCrop> small = CenterCropAndResize(NoiseTexture(640, 360, 3));
  EXPECT_EQ(small.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(small.status().message())
                .find("centre crop 360x360 of 640x360 has shorter side < 384 px"),
            std::string::npos)
      << small.status();
  const cv::Mat frame = NoiseTexture(800, 600, 4);
  EXPECT_EQ(CenterCropAndResize(frame, Box{0, 0, 801, 600}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ResizeCropConfig zero;
  zero.width = 0;
  EXPECT_EQ(CenterCropAndResize(frame, zero).status().code(), absl::StatusCode::kInvalidArgument);
  const absl::Status five = CenterCropAndResize(cv::Mat(600, 800, CV_8UC(5))).status();
  EXPECT_NE(std::string(five.message()).find("channel count 5"), std::string::npos) << five;
}

}  // namespace
}  // namespace dreamshot::dataset::filters

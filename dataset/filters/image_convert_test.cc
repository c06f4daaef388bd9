#include "dataset/filters/image_convert.h"

#include <gtest/gtest.h>

#include <string>

namespace dreamshot::dataset::filters {
namespace {

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

TEST(ImageConvertTest, GreyOfEveryLayoutAgrees) {
  const cv::Mat bgr(4, 6, CV_8UC3, cv::Scalar(10, 100, 200));  // luma ≈ 120.4
  cv::Mat bgra(4, 6, CV_8UC4, cv::Scalar(10, 100, 200, 0));
  cv::Mat bgr16;
  bgr.convertTo(bgr16, CV_16U, 257.0);  // 8-bit v ↦ 16-bit v·257 (255 ↦ 65535)
  for (const cv::Mat& image : {bgr, bgra, bgr16}) {
    absl::StatusOr<cv::Mat> grey = ToGrey8(image);
    ASSERT_TRUE(grey.ok()) << grey.status();
    EXPECT_EQ(grey->type(), CV_8UC1);
    EXPECT_EQ(grey->size(), bgr.size());
    EXPECT_NEAR(grey->at<uint8_t>(2, 3), 120, 1) << DescribeImage(image);
  }
}

TEST(ImageConvertTest, GreyPassesThroughAndBgrReplicatesIt) {
  const cv::Mat grey(3, 3, CV_8UC1, cv::Scalar(77));
  absl::StatusOr<cv::Mat> same = ToGrey8(grey);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->data, grey.data);  // shared, not copied
  absl::StatusOr<cv::Mat> bgr = ToBgr8(grey);
  ASSERT_TRUE(bgr.ok());
  EXPECT_EQ(bgr->type(), CV_8UC3);
  EXPECT_EQ(bgr->at<cv::Vec3b>(1, 1), cv::Vec3b(77, 77, 77));
  cv::Mat grey16(3, 3, CV_16UC1, cv::Scalar(65535));
  EXPECT_EQ(ToGrey8(grey16)->at<uint8_t>(0, 0), 255);
}

TEST(ImageConvertTest, RefusesOddChannelCountsNamingThem) {
  for (int channels : {2, 5}) {
    const cv::Mat image(8, 8, CV_8UC(channels), cv::Scalar::all(0));
    absl::StatusOr<cv::Mat> grey = ToGrey8(image);
    EXPECT_EQ(grey.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(grey.status(), "channel count " + std::to_string(channels)))
        << grey.status();
    EXPECT_EQ(ToBgr8(image).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ImageConvertTest, RefusesEmptyAndOtherDepths) {
  EXPECT_TRUE(Contains(ToGrey8(cv::Mat()).status(), "empty"));
  const absl::Status s = ToGrey8(cv::Mat(2, 2, CV_32FC3, cv::Scalar::all(0.5))).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "2x2 32FC3")) << s;
}

TEST(ImageConvertTest, CvExceptionBecomesInternalWithContext) {
  const absl::Status s =
      FromCvException(cv::Exception(-215, "bad size", "resize", "x.cc", 1), "resizing keyframe 12");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(Contains(s, "resizing keyframe 12: OpenCV error:")) << s;
}

}  // namespace
}  // namespace dreamshot::dataset::filters

#include "dataset/keyframe_analysis.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace dreamshot::dataset {
namespace {

constexpr char kMessi[] = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

std::unique_ptr<labels::PeopleDetector> People() {
  auto people = labels::PeopleDetector::Create();
  EXPECT_TRUE(people.ok()) << people.status();
  return people.ok() ? std::move(*people) : nullptr;
}

// messi5 (548×342) enlarged 2× inside 2.39:1-style black bars.
cv::Mat Letterboxed(int bar) {
  cv::Mat messi = cv::imread(kMessi);
  cv::Mat big;
  cv::resize(messi, big, cv::Size(), 2, 2, cv::INTER_CUBIC);
  cv::Mat frame(big.rows + 2 * bar, big.cols, CV_8UC3, cv::Scalar(0, 0, 0));
  big.copyTo(frame(cv::Rect(0, bar, big.cols, big.rows)));
  return frame;
}

TEST(KeyframeAnalysisTest, BarsComeOffBeforeTheCropAndTheLabel) {
  auto people = People();
  ASSERT_NE(people, nullptr);
  const cv::Mat frame = Letterboxed(60);
  auto a = AnalyzeKeyframe(frame, *people);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->drops.empty()) << a->drops[0].filter << ": " << a->drops[0].detail;
  EXPECT_NEAR(a->content.y, 60, 1);
  EXPECT_NEAR(a->content.height, 684, 2);
  // The square crop lies inside the picture: no bar in the training image.
  EXPECT_GE(a->crop.y, a->content.y);
  EXPECT_LE(a->crop.y + a->crop.height, a->content.y + a->content.height);
  EXPECT_EQ(a->training_image.cols, 512);
  EXPECT_EQ(a->training_image.rows, 512);
  EXPECT_NE(a->label.scale, ShotScale::kUnknown);
  EXPECT_NE(a->phash, 0u);
}

TEST(KeyframeAnalysisTest, DroppedFramesKeepTheirReasonsButGetNoTrainingImage) {
  auto people = People();
  ASSERT_NE(people, nullptr);
  auto small = AnalyzeKeyframe(cv::imread(kMessi), *people);  // 342 px high < 384
  ASSERT_TRUE(small.ok()) << small.status();
  ASSERT_FALSE(small->drops.empty());
  EXPECT_EQ(small->drops[0].filter, "too_small");
  EXPECT_TRUE(small->training_image.empty());
  EXPECT_TRUE(small->crop.empty());

  auto black = AnalyzeKeyframe(cv::Mat(720, 1280, CV_8UC3, cv::Scalar(3, 3, 3)), *people);
  ASSERT_TRUE(black.ok()) << black.status();
  ASSERT_FALSE(black->drops.empty());
  EXPECT_TRUE(black->training_image.empty());

  EXPECT_EQ(AnalyzeKeyframe(cv::Mat(64, 64, CV_8UC2), *people).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset

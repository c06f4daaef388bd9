#include "dataset/filters/frame_filters.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "dataset/filters/test_images.h"

namespace dreamshot::dataset::filters {
namespace {

using testing::DrawSubtitle;
using testing::LoadSample;
using testing::NoiseTexture;

std::vector<std::string> Filters(const std::vector<DropReason>& reasons) {
  std::vector<std::string> names;
  for (const DropReason& r : reasons) names.push_back(r.filter);
  return names;
}

std::vector<DropReason> Reasons(const cv::Mat& image, const FilterConfig& config = {}) {
  absl::StatusOr<std::vector<DropReason>> reasons = RunFilters(image, config);
  EXPECT_TRUE(reasons.ok()) << reasons.status();
  return reasons.ok() ? *reasons : std::vector<DropReason>{};
}

FilterConfig NoSizeCheck() {
  FilterConfig config;
  config.check_size = false;  // most sample photos are under 384 px tall
  return config;
}

TEST(FrameFiltersTest, SharpTextureAndRealPhotosPass) {
  EXPECT_TRUE(Reasons(NoiseTexture(1280, 720, 1)).empty());
  for (const char* name : {"messi5.jpg", "baboon.jpg", "fruits.jpg", "starry_night.jpg"}) {
    absl::StatusOr<cv::Mat> photo = LoadSample(name);
    ASSERT_TRUE(photo.ok()) << photo.status();
    const std::vector<DropReason> reasons = Reasons(*photo, NoSizeCheck());
    EXPECT_TRUE(reasons.empty()) << name << ": " << reasons[0].filter << " " << reasons[0].detail;
  }
}

TEST(FrameFiltersTest, BlackFrameGivesEveryReasonWithValues) {
  cv::Mat black(720, 1280, CV_8UC3, cv::Scalar::all(3));
  const std::vector<DropReason> reasons = Reasons(black);
  EXPECT_EQ(Filters(reasons), (std::vector<std::string>{"black", "low_contrast", "blur"}));
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_EQ(reasons[0].detail, "mean luma 3.0 < 10");
  EXPECT_EQ(reasons[1].detail, "luma std dev 0.0 < 15");
  EXPECT_EQ(reasons[2].detail, "variance of Laplacian 0.0 < 40");
}

TEST(FrameFiltersTest, FlatFrameOfAnyColourIsBlank) {
  cv::Mat white(360, 640, CV_8UC3, cv::Scalar(250, 250, 250));
  cv::Mat grain(white.size(), CV_8UC3);
  cv::randn(grain, cv::Scalar::all(0), cv::Scalar::all(1));  // std ≈ 1 grain
  white += grain;
  FilterConfig only_black;
  only_black.check_contrast = only_black.check_blur = only_black.check_size = false;
  const std::vector<DropReason> reasons = Reasons(white, only_black);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].filter, "black");
  EXPECT_EQ(reasons[0].detail.rfind("blank: luma std dev ", 0), 0u) << reasons[0].detail;
}

TEST(FrameFiltersTest, LowContrastHaze) {
  // The texture's contrast cut to a quarter: a foggy, flat frame.
  cv::Mat haze;
  NoiseTexture(1280, 720, 2).convertTo(haze, -1, 0.25, 96);
  const std::vector<DropReason> reasons = Reasons(haze);
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0].filter, "low_contrast");
  EXPECT_EQ(reasons[0].detail.rfind("luma std dev ", 0), 0u) << reasons[0].detail;
}

TEST(FrameFiltersTest, BlurIsCaughtAtAnyResolution) {
  FilterConfig blur_only;
  blur_only.check_black = blur_only.check_contrast = blur_only.check_size = false;
  for (int width : {640, 1920, 2560}) {
    const cv::Mat sharp = NoiseTexture(width, width * 9 / 16, 3);
    cv::Mat blurred;
    // Sigma 2 px at the 512-column analysis size, whatever the source size.
    cv::GaussianBlur(sharp, blurred, cv::Size(0, 0), 2.0 * width / kAnalysisWidth);
    absl::StatusOr<FrameMeasurements> s = MeasureFrame(sharp);
    absl::StatusOr<FrameMeasurements> b = MeasureFrame(blurred);
    ASSERT_TRUE(s.ok() && b.ok());
    EXPECT_GT(s->laplacian_variance, 100) << width;
    EXPECT_LT(b->laplacian_variance, 40) << width;
    EXPECT_TRUE(Reasons(sharp, blur_only).empty()) << width;
    EXPECT_EQ(Filters(Reasons(blurred, blur_only)), std::vector<std::string>{"blur"}) << width;
  }
}

TEST(FrameFiltersTest, BlurredPhotoIsCaughtSharpIsNot) {
  absl::StatusOr<cv::Mat> messi = LoadSample("messi5.jpg");
  ASSERT_TRUE(messi.ok()) << messi.status();
  cv::Mat blurred;
  cv::GaussianBlur(*messi, blurred, cv::Size(0, 0), 2.5);
  const FilterConfig no_size = NoSizeCheck();  // messi5.jpg is 548×342
  EXPECT_TRUE(Reasons(*messi, no_size).empty());
  const std::vector<DropReason> reasons = Reasons(blurred, no_size);
  ASSERT_EQ(Filters(reasons), std::vector<std::string>{"blur"});
  EXPECT_EQ(reasons[0].detail.rfind("variance of Laplacian ", 0), 0u);
}

TEST(FrameFiltersTest, MeasurementsAgreeAcrossLayouts) {
  const cv::Mat bgr = NoiseTexture(960, 540, 4);
  cv::Mat grey, bgra, bgr16;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgr.convertTo(bgr16, CV_16U, 257.0);
  const FrameMeasurements ref = *MeasureFrame(bgr);
  for (const cv::Mat& image : {grey, bgra, bgr16}) {
    absl::StatusOr<FrameMeasurements> m = MeasureFrame(image);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_NEAR(m->mean_luma, ref.mean_luma, 0.01);
    EXPECT_NEAR(m->luma_std, ref.luma_std, 0.01);
    EXPECT_NEAR(m->laplacian_variance, ref.laplacian_variance, 1e-6 * ref.laplacian_variance);
  }
}

TEST(FrameFiltersTest, OddChannelCountIsInvalidArgument) {
  const absl::Status s = RunFilters(cv::Mat(64, 64, CV_8UC2, cv::Scalar::all(9))).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("channel count 2"), std::string::npos) << s;
}

TEST(FrameFiltersTest, TooSmallAfterCrop) {
  const std::vector<DropReason> reasons = Reasons(NoiseTexture(640, 300, 5));
  ASSERT_EQ(Filters(reasons), std::vector<std::string>{"too_small"});
  EXPECT_EQ(reasons[0].detail, "shorter side 300 px (640x300) < 384");
}

TEST(FrameFiltersTest, DisabledChecksAreNotMeasured) {
  FilterConfig none;
  none.check_black = none.check_contrast = none.check_blur = none.check_size = false;
  absl::StatusOr<FrameMeasurements> m = MeasureFrame(cv::Mat(10, 10, CV_8UC1, cv::Scalar(0)), none);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->mean_luma, -1);
  EXPECT_EQ(m->laplacian_variance, -1);
  EXPECT_EQ(m->text_fraction, -1);
  EXPECT_TRUE(Evaluate(*m, none).empty());
}

FilterConfig TextOnly() {
  FilterConfig config;
  config.check_black = config.check_contrast = config.check_blur = config.check_size = false;
  config.check_text = true;
  return config;
}

TEST(FrameFiltersTest, SubtitlesOnSyntheticFrameAreText) {
  const cv::Mat frame = NoiseTexture(1920, 1080, 6);
  EXPECT_TRUE(Reasons(frame, TextOnly()).empty());
  cv::Mat subtitled = frame.clone();
  DrawSubtitle(subtitled, "I told you never to come back here.", 960, 45);
  DrawSubtitle(subtitled, "Not after what happened in Lisbon.", 1030, 45);
  const std::vector<DropReason> reasons = Reasons(subtitled, TextOnly());
  ASSERT_EQ(Filters(reasons), std::vector<std::string>{"text"});
  EXPECT_NE(reasons[0].detail.find(" of lower third > 0.03"), std::string::npos)
      << reasons[0].detail;
}

TEST(FrameFiltersTest, SubtitlesOnRealPhotosAreTextThePhotosAreNot) {
  for (const char* name : {"messi5.jpg", "baboon.jpg", "fruits.jpg", "building.jpg", "home.jpg"}) {
    absl::StatusOr<cv::Mat> photo = LoadSample(name);
    ASSERT_TRUE(photo.ok()) << photo.status();
    absl::StatusOr<FrameMeasurements> plain = MeasureFrame(*photo, TextOnly());
    ASSERT_TRUE(plain.ok());
    EXPECT_LE(plain->text_fraction, 0.03) << name;
    cv::Mat subtitled = photo->clone();
    // One line, ~12 px tall at 512 columns, like a 1080p subtitle.
    DrawSubtitle(subtitled, "We were never here, understand?", photo->rows * 9 / 10,
                 photo->cols * 12 / 512);
    EXPECT_EQ(Filters(Reasons(subtitled, TextOnly())), std::vector<std::string>{"text"}) << name;
  }
}

}  // namespace
}  // namespace dreamshot::dataset::filters

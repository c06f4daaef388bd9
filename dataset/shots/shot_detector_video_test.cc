// DetectShots on synthetic MJPG videos whose cuts, fades, flashes and
// letterboxing are known by construction (test_video.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataset/shots/shot_detector.h"
#include "dataset/shots/test_video.h"

namespace dreamshot::dataset::shots {
namespace {

using Method = ShotDetectionOptions::Method;
using synthetic::Scene;
using synthetic::SceneSpec;

const cv::Size kSize(320, 180);
constexpr double kFps = 24;

// Four scenes with unlike palettes, each panning slowly with a moving disc.
const std::vector<SceneSpec>& Palettes() {
  static const auto* specs = new std::vector<SceneSpec>{
      {1, {40, 90, 160}, {200, 180, 60}, 1.0, 0},
      {2, {30, 140, 40}, {220, 220, 230}, 1.0, 0},
      {3, {150, 40, 60}, {60, 200, 240}, 1.0, 0},
      {4, {20, 20, 20}, {90, 160, 250}, 1.0, 0},
  };
  return *specs;
}

// Scenes back to back with hard cuts; returns the cut frames.
std::vector<int64_t> AppendScenes(const std::vector<SceneSpec>& specs, const std::vector<int>& lengths,
                                  std::vector<cv::Mat>* frames) {
  std::vector<int64_t> cuts;
  for (size_t s = 0; s < specs.size(); ++s) {
    if (!frames->empty()) cuts.push_back(static_cast<int64_t>(frames->size()));
    const Scene scene(specs[s], kSize);
    for (int t = 0; t < lengths[s]; ++t) frames->push_back(scene.Frame(t));
  }
  return cuts;
}

std::vector<int64_t> Cuts(const std::vector<Shot>& shots) {
  std::vector<int64_t> starts;
  for (size_t i = 1; i < shots.size(); ++i) starts.push_back(shots[i].start_frame);
  return starts;
}

std::vector<Shot> Detect(const std::string& path, Method method, int frame_step = 1) {
  ShotDetectionOptions options;
  options.method = method;
  options.reader.frame_step = frame_step;
  auto shots = DetectShots(path, options);
  EXPECT_TRUE(shots.ok()) << shots.status();
  return shots.ok() ? *shots : std::vector<Shot>{};
}

class ShotDetectorVideoTest : public ::testing::TestWithParam<Method> {};

TEST_P(ShotDetectorVideoTest, HardCutsAreFoundExactly) {
  std::vector<cv::Mat> frames;
  const std::vector<int64_t> cuts = AppendScenes(Palettes(), {30, 35, 35, 40}, &frames);
  ASSERT_EQ(cuts, (std::vector<int64_t>{30, 65, 100}));
  const std::string path = synthetic::TempPath("hard_cuts.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());

  const std::vector<Shot> shots = Detect(path, GetParam());
  EXPECT_EQ(Cuts(shots), cuts);
  ASSERT_EQ(shots.size(), 4u);
  EXPECT_EQ(shots.front().start_frame, 0);
  EXPECT_EQ(shots.back().end_frame, 139);
  for (size_t i = 0; i < shots.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(shots[i].index, static_cast<int64_t>(i));
    EXPECT_EQ(shots[i].source, path);
    EXPECT_NEAR(shots[i].start_s, shots[i].start_frame / kFps, 1e-3);
    EXPECT_NEAR(shots[i].end_s, shots[i].end_frame / kFps, 1e-3);
    if (i > 0) {
      EXPECT_EQ(shots[i].start_frame, shots[i - 1].end_frame + 1);
    }
    EXPECT_EQ(shots[i].detector, i == 0 ? "start" : (GetParam() == Method::kContent ? "content" : "adaptive"));
    EXPECT_FALSE(shots[i].fade_in || shots[i].fade_out);
  }
}

TEST_P(ShotDetectorVideoTest, WithFrameSkippingCutsAreReportedInSourceFrames) {
  std::vector<cv::Mat> frames;
  const std::vector<int64_t> cuts = AppendScenes(Palettes(), {31, 34, 37, 40}, &frames);  // 31, 65, 102
  const std::string path = synthetic::TempPath("hard_cuts_odd.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());
  for (int step : {2, 3}) {
    SCOPED_TRACE(step);
    const std::vector<Shot> shots = Detect(path, GetParam(), step);
    const std::vector<int64_t> found = Cuts(shots);
    ASSERT_EQ(found.size(), cuts.size());
    // The first analysed frame of the new shot: 0..step-1 frames late.
    for (size_t i = 0; i < cuts.size(); ++i) {
      EXPECT_GE(found[i], cuts[i]);
      EXPECT_LE(found[i], cuts[i] + step - 1);
      EXPECT_EQ(found[i] % step, 0);
    }
    EXPECT_EQ(shots.back().end_frame, static_cast<int64_t>(frames.size()) - 1);
  }
}

TEST_P(ShotDetectorVideoTest, AFadeOutAndInIsOneCutInTheMiddleOfTheBlack) {
  // Scene A 0..39, fading over 30..39 down to a quarter (still above the
  // black level), black 40..51, scene B fading in from a quarter over 52..61.
  const Scene a(Palettes()[0], kSize), b(Palettes()[2], kSize);
  std::vector<cv::Mat> frames;
  for (int f = 0; f < 40; ++f) frames.push_back(synthetic::Dim(a.Frame(f), f < 30 ? 1 : 1 - 0.075 * (f - 29)));
  for (int f = 40; f < 52; ++f) frames.push_back(cv::Mat::zeros(kSize, CV_8UC3));
  for (int f = 52; f < 100; ++f) frames.push_back(synthetic::Dim(b.Frame(f - 52), f < 62 ? 0.25 + 0.075 * (f - 52) : 1));
  const std::string path = synthetic::TempPath("fade.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());

  const std::vector<Shot> shots = Detect(path, GetParam());
  ASSERT_EQ(Cuts(shots), (std::vector<int64_t>{46}));  // 40 + (52 - 40) / 2
  EXPECT_EQ(shots[1].detector, "fade");
  EXPECT_TRUE(shots[0].fade_out);
  EXPECT_TRUE(shots[1].fade_in);
  EXPECT_FALSE(shots[0].fade_in);
  EXPECT_FALSE(shots[1].fade_out);
  // Skipping every other frame sees the same run: black 40..50, picture at 52.
  EXPECT_EQ(Cuts(Detect(path, GetParam(), 2)), (std::vector<int64_t>{46}));
}

TEST_P(ShotDetectorVideoTest, BlackAtBothEndsIsAFadeInAndOutOfOneShot) {
  const Scene scene(Palettes()[1], kSize);
  std::vector<cv::Mat> frames(8, cv::Mat::zeros(kSize, CV_8UC3));
  for (int t = 0; t < 50; ++t) frames.push_back(scene.Frame(t));
  for (int t = 0; t < 8; ++t) frames.push_back(cv::Mat::zeros(kSize, CV_8UC3));
  const std::string path = synthetic::TempPath("black_ends.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());
  const std::vector<Shot> shots = Detect(path, GetParam());
  ASSERT_EQ(shots.size(), 1u);
  EXPECT_TRUE(shots[0].fade_in);
  EXPECT_TRUE(shots[0].fade_out);
  EXPECT_EQ(shots[0].end_frame, 65);
}

TEST_P(ShotDetectorVideoTest, DarkLetterboxedScenesAreNeitherBlackNorDilutedByTheBars) {
  // 2.76:1 in 16:9: bars are 36% of the frame. The pictures' mean luma is
  // 13-16, the whole frames' 10-11: below the black level of 12, so without
  // leaving the bars out every frame would be "black", and the cut scores
  // (33-41 in the picture) would shrink to 21-26, under the threshold.
  const std::vector<SceneSpec> dark = {
      {5, {0, 6, 26}, {6, 14, 40}, 1.0, 0},
      {6, {40, 12, 0}, {70, 22, 6}, 1.0, 0},
      {7, {3, 17, 3}, {12, 30, 12}, 1.0, 0},
  };
  std::vector<cv::Mat> frames;
  const std::vector<int64_t> cuts = AppendScenes(dark, {30, 30, 30}, &frames);
  for (cv::Mat& f : frames) f = synthetic::Letterbox(f, 2.76);
  const std::string path = synthetic::TempPath("letterbox_dark.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());

  const std::vector<Shot> shots = Detect(path, GetParam());
  EXPECT_EQ(Cuts(shots), cuts);
  for (const Shot& shot : shots) EXPECT_FALSE(shot.fade_in || shot.fade_out) << shot.index;

  ShotDetectionOptions whole_frame;
  whole_frame.method = GetParam();
  whole_frame.score.ignore_bars = false;
  auto naive = DetectShots(path, whole_frame);
  ASSERT_TRUE(naive.ok());
  EXPECT_NE(Cuts(*naive), cuts) << "the test no longer exercises the bars";
}

TEST_P(ShotDetectorVideoTest, ASlowlyMovingCameraIsOneShot) {
  SceneSpec spec = Palettes()[2];
  spec.pan_px = 1.5;
  spec.zoom = 0.003;  // 1.45x over the shot
  const Scene scene(spec, kSize);
  std::vector<cv::Mat> frames;
  for (int t = 0; t < 150; ++t) frames.push_back(scene.Frame(t));
  const std::string path = synthetic::TempPath("camera_move.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());
  for (int step : {1, 3}) {
    const std::vector<Shot> shots = Detect(path, GetParam(), step);
    ASSERT_EQ(shots.size(), 1u) << "step " << step << ", first cut at " << shots[1].start_frame;
    EXPECT_EQ(shots[0].end_frame, 149);
  }
}

TEST_P(ShotDetectorVideoTest, FlashesAndGlitchesAreNotCuts) {
  const Scene scene(Palettes()[3], kSize);
  std::vector<cv::Mat> frames;
  for (int t = 0; t < 100; ++t) frames.push_back(scene.Frame(t));
  frames[30] = cv::Mat(kSize, CV_8UC3, cv::Scalar(255, 255, 255));  // a white flash
  cv::randu(frames[60], 0, 256);                                     // a two-frame glitch
  cv::randu(frames[61], 0, 256);
  frames[80] = cv::Mat::zeros(kSize, CV_8UC3);  // a dropped frame shown black
  const std::string path = synthetic::TempPath("flashes.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());

  const std::vector<Shot> shots = Detect(path, GetParam());
  EXPECT_TRUE(Cuts(shots).empty());
  ASSERT_EQ(shots.size(), 1u);
  EXPECT_FALSE(shots[0].fade_in || shots[0].fade_out);

  ShotDetectionOptions no_filter;
  no_filter.method = GetParam();
  no_filter.flash.enabled = false;
  auto unfiltered = DetectShots(path, no_filter);
  ASSERT_TRUE(unfiltered.ok());
  EXPECT_FALSE(Cuts(*unfiltered).empty()) << "the test no longer exercises the flash filter";
}

TEST_P(ShotDetectorVideoTest, ShortShotsMergeIntoTheirPredecessor) {
  std::vector<cv::Mat> frames;
  const std::vector<int64_t> cuts = AppendScenes(Palettes(), {30, 8, 32, 30}, &frames);  // 30, 38, 70
  const std::string path = synthetic::TempPath("short_shot.avi");
  ASSERT_TRUE(synthetic::WriteVideo(path, frames, kFps).ok());
  EXPECT_EQ(Cuts(Detect(path, GetParam())), (std::vector<int64_t>{30, 70}));
  ShotDetectionOptions options;
  options.method = GetParam();
  options.min_shot_frames = 5;
  auto shots = DetectShots(path, options);
  ASSERT_TRUE(shots.ok());
  EXPECT_EQ(Cuts(*shots), cuts);
}

INSTANTIATE_TEST_SUITE_P(BothDetectors, ShotDetectorVideoTest, ::testing::Values(Method::kContent, Method::kAdaptive),
                         [](const auto& info) { return info.param == Method::kContent ? "Content" : "Adaptive"; });

}  // namespace
}  // namespace dreamshot::dataset::shots

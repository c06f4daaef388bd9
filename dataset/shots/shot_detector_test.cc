// The streaming pieces of shot_detector.h on hand-made metrics: what each
// rule does, independent of decoding. Whole videos: shot_detector_video_test
// (synthetic) and shot_detector_footage_test (OpenCV's sample clips).
#include "dataset/shots/shot_detector.h"

#include <gtest/gtest.h>

#include <vector>

namespace dreamshot::dataset::shots {
namespace {

// Metrics for frames 0..scores.size()-1 at 24 fps with these content scores
// (frame 0 unscored, as a scorer makes it) and a bright picture.
std::vector<FrameMetrics> Metrics(const std::vector<double>& scores) {
  std::vector<FrameMetrics> out;
  for (size_t i = 0; i < scores.size(); ++i) {
    FrameMetrics m;
    m.frame = static_cast<int64_t>(i);
    m.time_s = i / 24.0;
    m.scored = i > 0;
    m.content = i > 0 ? scores[i] : 0;
    m.luma = 100;
    out.push_back(m);
  }
  return out;
}

std::vector<double> Flat(size_t n, double level) { return std::vector<double>(n, level); }

std::vector<int64_t> CutsOf(CutDetector& detector, const std::vector<FrameMetrics>& metrics) {
  std::vector<int64_t> cuts;
  for (const FrameMetrics& m : metrics) detector.Push(m, &cuts);
  detector.Finish(&cuts);
  return cuts;
}

std::vector<int64_t> Starts(const std::vector<Shot>& shots) {
  std::vector<int64_t> starts;
  for (size_t i = 1; i < shots.size(); ++i) starts.push_back(shots[i].start_frame);
  return starts;
}

TEST(ContentDetectorTest, CutsAtTheThresholdButNotTooSoon) {
  std::vector<double> scores = Flat(80, 3);
  scores[10] = 50;  // 10 frames after the start: too soon for 15
  scores[20] = 27;  // exactly the threshold
  scores[30] = 40;  // 10 after the cut at 20
  scores[35] = 26.9;
  scores[50] = 60;
  ContentDetector detector({}, 15);
  EXPECT_EQ(CutsOf(detector, Metrics(scores)), (std::vector<int64_t>{20, 50}));
  ContentDetector eager({}, 5);
  EXPECT_EQ(CutsOf(eager, Metrics(scores)), (std::vector<int64_t>{10, 20, 30, 50}));
}

TEST(ContentDetectorTest, UnscoredFramesNeverCut) {
  std::vector<FrameMetrics> metrics = Metrics(Flat(40, 2));
  metrics[20].content = 90;
  metrics[20].scored = false;
  ContentDetector detector({}, 15);
  EXPECT_TRUE(CutsOf(detector, metrics).empty());
}

TEST(AdaptiveDetectorTest, IgnoresSteadyFastMotionButFindsACutInIt) {
  // Fast motion: every frame scores 35, past the content threshold.
  std::vector<double> scores = Flat(100, 35);
  scores[60] = 130;
  ContentDetector content({}, 15);
  EXPECT_EQ(CutsOf(content, Metrics(scores)), (std::vector<int64_t>{15, 30, 45, 60, 75, 90}));
  AdaptiveDetector adaptive({}, 15);
  EXPECT_EQ(CutsOf(adaptive, Metrics(scores)), (std::vector<int64_t>{60}));
}

TEST(AdaptiveDetectorTest, DecidesAWindowLateAndTheLastFramesAtFinish) {
  std::vector<double> scores = Flat(40, 2);
  scores[20] = 40;
  scores[39] = 40;  // the very last frame: only left neighbours
  const std::vector<FrameMetrics> metrics = Metrics(scores);
  AdaptiveDetector detector({}, 15);
  std::vector<int64_t> cuts;
  for (int i = 0; i <= 21; ++i) detector.Push(metrics[i], &cuts);
  EXPECT_TRUE(cuts.empty());  // frame 20 needs frames 21 and 22
  detector.Push(metrics[22], &cuts);
  EXPECT_EQ(cuts, (std::vector<int64_t>{20}));
  for (int i = 23; i < 40; ++i) detector.Push(metrics[i], &cuts);
  EXPECT_EQ(cuts.size(), 1u);
  detector.Finish(&cuts);
  EXPECT_EQ(cuts, (std::vector<int64_t>{20, 39}));
}

TEST(AdaptiveDetectorTest, NeedsTheMinimumScoreToo) {
  std::vector<double> scores = Flat(40, 0.5);
  scores[20] = 12;  // 24x its neighbours but below min_content_score 15
  AdaptiveDetector detector({}, 15);
  EXPECT_TRUE(CutsOf(detector, Metrics(scores)).empty());
}

TEST(FlashFilterTest, MarksAOneOrTwoFrameFlashAndTheFrameAfterIt) {
  std::vector<FrameMetrics> metrics = Metrics(Flat(30, 2));
  // Frame 10 flashes: it differs from 9, 11 differs from 10, 11 is like 9.
  metrics[10].content = 80;
  metrics[11].content = 80;
  metrics[11].content_to_earlier = {3, -1};
  // Frames 20-21 glitch: 22 is like 19 (three steps back).
  metrics[20].content = 60;
  metrics[21].content = 20;
  metrics[22].content = 60;
  metrics[22].content_to_earlier = {58, 4};
  FlashFilter filter({});
  std::vector<FrameMetrics> out;
  for (const FrameMetrics& m : metrics) filter.Push(m, &out);
  filter.Finish(&out);
  ASSERT_EQ(out.size(), metrics.size());
  for (size_t i = 0; i < out.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(out[i].frame, static_cast<int64_t>(i));
    const bool flash = i == 10 || i == 20 || i == 21;
    EXPECT_EQ(out[i].flash, flash);
    EXPECT_EQ(out[i].scored, i > 0 && !flash && i != 11 && i != 22);
  }
}

TEST(FlashFilterTest, ACutIsNoFlash) {
  std::vector<FrameMetrics> metrics = Metrics(Flat(30, 2));
  metrics[10].content = 80;
  metrics[11].content_to_earlier = {79, -1};  // the new shot stays
  metrics[12].content_to_earlier = {2, 81};
  FlashFilter filter({});
  std::vector<FrameMetrics> out;
  for (const FrameMetrics& m : metrics) filter.Push(m, &out);
  filter.Finish(&out);
  EXPECT_TRUE(out[10].scored);
  EXPECT_FALSE(out[10].flash);
}

TEST(ShotDetectorTest, ShotsCoverTheVideoWithCutsTimesAndSettings) {
  std::vector<double> scores = Flat(100, 2);
  scores[40] = 45;
  scores[70] = 45;
  ShotDetector detector(ShotDetectionOptions{});
  for (const FrameMetrics& m : Metrics(scores)) detector.Push(m);
  const std::vector<Shot> shots = detector.Finish("film.mkv", 99, 99 / 24.0);
  ASSERT_EQ(shots.size(), 3u);
  EXPECT_EQ(Starts(shots), (std::vector<int64_t>{40, 70}));
  EXPECT_EQ(shots[0].start_frame, 0);
  EXPECT_EQ(shots[0].end_frame, 39);
  EXPECT_EQ(shots[1].end_frame, 69);
  EXPECT_EQ(shots[2].end_frame, 99);
  EXPECT_DOUBLE_EQ(shots[1].start_s, 40 / 24.0);
  EXPECT_DOUBLE_EQ(shots[1].end_s, 69 / 24.0);
  EXPECT_EQ(shots[0].detector, "start");
  EXPECT_EQ(shots[1].detector, "content");
  EXPECT_EQ(shots[2].index, 2);
  EXPECT_EQ(shots[2].source, "film.mkv");
  EXPECT_EQ(shots[1].detector_params.at("threshold"), 27);
  EXPECT_EQ(shots[1].detector_params.at("min_shot_frames"), 15);
  EXPECT_EQ(shots[1].detector_params.at("black_luma"), 12);
}

TEST(ShotDetectorTest, ABlackRunIsOneCutInItsMiddle) {
  std::vector<FrameMetrics> metrics = Metrics(Flat(100, 2));
  for (int i = 40; i < 52; ++i) metrics[i].luma = 3;  // black 40..51
  // Scored as content, the edges of the run would be cuts.
  metrics[40].content = 90;
  metrics[52].content = 90;
  for (auto method : {ShotDetectionOptions::Method::kContent, ShotDetectionOptions::Method::kAdaptive}) {
    ShotDetectionOptions options;
    options.method = method;
    ShotDetector detector(options);
    for (const FrameMetrics& m : metrics) detector.Push(m);
    const std::vector<Shot> shots = detector.Finish("f", 99, 99 / 24.0);
    ASSERT_EQ(Starts(shots), (std::vector<int64_t>{46}));
    EXPECT_EQ(shots[1].detector, "fade");
    EXPECT_TRUE(shots[0].fade_out);
    EXPECT_TRUE(shots[1].fade_in);
    EXPECT_FALSE(shots[0].fade_in);
    EXPECT_FALSE(shots[1].fade_out);
  }
}

TEST(ShotDetectorTest, BlackAtTheEndsMarksFadesWithoutCuts) {
  std::vector<FrameMetrics> metrics = Metrics(Flat(60, 2));
  for (int i : {0, 1, 2, 57, 58, 59}) metrics[i].luma = 0;
  ShotDetector detector(ShotDetectionOptions{});
  for (const FrameMetrics& m : metrics) detector.Push(m);
  const std::vector<Shot> shots = detector.Finish("f", 59, 59 / 24.0);
  ASSERT_EQ(shots.size(), 1u);
  EXPECT_TRUE(shots[0].fade_in);
  EXPECT_TRUE(shots[0].fade_out);
  EXPECT_EQ(shots[0].end_frame, 59);
}

TEST(ShotDetectorTest, WithFrameSkippingTimesAreInterpolatedAndTheLastFrameCounts) {
  // Every 4th frame of 0..101 analysed; the cut shows at frame 48.
  std::vector<FrameMetrics> metrics;
  for (int64_t f = 0; f <= 100; f += 4) {
    FrameMetrics m;
    m.frame = f;
    m.time_s = f / 25.0;
    m.scored = f > 0;
    m.content = f == 48 ? 70 : 2;
    m.luma = 100;
    metrics.push_back(m);
  }
  ShotDetectionOptions options;
  options.reader.frame_step = 4;
  ShotDetector detector(options);
  for (const FrameMetrics& m : metrics) detector.Push(m);
  const std::vector<Shot> shots = detector.Finish("f", 101, 101 / 25.0);
  ASSERT_EQ(Starts(shots), (std::vector<int64_t>{48}));
  EXPECT_EQ(shots[0].end_frame, 47);
  EXPECT_NEAR(shots[0].end_s, 47 / 25.0, 1e-12);  // between the analysed 44 and 48
  EXPECT_EQ(shots[1].end_frame, 101);            // read but not analysed
  EXPECT_DOUBLE_EQ(shots[1].end_s, 101 / 25.0);
  EXPECT_EQ(shots[1].detector_params.at("frame_step"), 4);
}

TEST(ShotDetectorTest, NoFramesNoShots) {
  ShotDetector detector(ShotDetectionOptions{});
  EXPECT_TRUE(detector.Finish("f", -1, 0).empty());
}

}  // namespace
}  // namespace dreamshot::dataset::shots

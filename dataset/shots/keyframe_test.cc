#include "dataset/shots/keyframe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "dataset/filters/test_images.h"
#include "dataset/shots/shot_detector.h"
#include "dataset/shots/test_video.h"
#include "dataset/shots/video_reader.h"

namespace dreamshot::dataset::shots {
namespace {

Shot MakeShot(int64_t index, int64_t start, int64_t end) {
  Shot s;
  s.index = index;
  s.start_frame = start;
  s.end_frame = end;
  return s;
}

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  const cv::Scalar m = cv::mean(d);
  return (m[0] + m[1] + m[2]) / 3;
}

cv::Mat Blur(const cv::Mat& frame) {
  cv::Mat out;
  cv::GaussianBlur(frame, out, cv::Size(0, 0), 2.5);
  return out;
}

bool Contains(const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

TEST(KeyframeCandidatesTest, SpreadOverTheMiddleHalf) {
  EXPECT_EQ(KeyframeCandidates(MakeShot(0, 100, 199)),
            (std::vector<int64_t>{125, 131, 137, 143, 150, 156, 162, 168, 174}));
  EXPECT_EQ(KeyframeCandidates(MakeShot(0, 7, 7)), (std::vector<int64_t>{7}));
  EXPECT_EQ(KeyframeCandidates(MakeShot(0, 10, 13)), (std::vector<int64_t>{11, 12}));
  KeyframeOptions one;
  one.max_candidates = 1;
  EXPECT_EQ(KeyframeCandidates(MakeShot(0, 0, 99), one), (std::vector<int64_t>{49}));
}

TEST(SharpnessTest, BlurLowersIt) {
  synthetic::Scene scene({9}, cv::Size(256, 144));
  const cv::Mat sharp = scene.Frame(0);
  EXPECT_GT(Sharpness(sharp), 2 * Sharpness(Blur(sharp)));
}

// Three 40-frame shots at 640x360 (MJPG): in shot 1 every frame is blurred
// but frame 62, in shot 2 only frame 100 is blurred. Candidates of shot 1
// (frames 40-79): 50 52 55 57 60 62 64 67 69; of shot 2: 90 92 95 97 100 ...
class KeyframeVideoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(synthetic::TempPath("keyframes.avi"));
    frames_ = new std::vector<cv::Mat>;
    const std::vector<synthetic::SceneSpec> specs = {
        {11, {40, 90, 160}, {200, 180, 60}, 1.0, 0},
        {12, {30, 140, 40}, {220, 220, 230}, 1.0, 0},
        {13, {150, 40, 60}, {60, 200, 240}, 1.0, 0},
    };
    for (size_t s = 0; s < specs.size(); ++s) {
      const synthetic::Scene scene(specs[s], cv::Size(640, 360));
      for (int t = 0; t < 40; ++t) {
        const int f = static_cast<int>(frames_->size());
        cv::Mat frame = scene.Frame(t);
        if ((s == 1 && f != 62) || f == 100) frame = Blur(frame);
        frames_->push_back(frame);
      }
    }
    ASSERT_TRUE(synthetic::WriteVideo(*path_, *frames_, 24).ok());
  }
  static void TearDownTestSuite() {
    delete path_;
    delete frames_;
  }
  static std::string* path_;
  static std::vector<cv::Mat>* frames_;
};
std::string* KeyframeVideoTest::path_ = nullptr;
std::vector<cv::Mat>* KeyframeVideoTest::frames_ = nullptr;

TEST_F(KeyframeVideoTest, PicksTheSharpFrameAtFullResolution) {
  auto shots = DetectShots(*path_, ShotDetectionOptions{});
  ASSERT_TRUE(shots.ok()) << shots.status();
  ASSERT_EQ(shots->size(), 3u);
  ASSERT_EQ((*shots)[1].start_frame, 40);
  std::vector<std::string> warnings;
  auto keyframes = ExtractKeyframes(*path_, *shots, {}, &warnings);
  ASSERT_TRUE(keyframes.ok()) << keyframes.status();
  ASSERT_EQ(keyframes->size(), 3u);
  EXPECT_TRUE(warnings.empty());
  for (size_t i = 0; i < 3; ++i) {
    const Keyframe& k = (*keyframes)[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(k.shot_index, static_cast<int64_t>(i));
    EXPECT_TRUE(Contains(KeyframeCandidates((*shots)[i]), k.frame)) << k.frame;
    EXPECT_EQ(k.image.size(), cv::Size(640, 360));
    EXPECT_NEAR(k.time_s, k.frame / 24.0, 1e-9);
    // The image is that frame (JPEG loss apart), not a neighbour.
    EXPECT_LT(MeanAbsDiff(k.image, (*frames_)[k.frame]), 4);
    EXPECT_LT(MeanAbsDiff(k.image, (*frames_)[k.frame]), MeanAbsDiff(k.image, (*frames_)[k.frame + 2]));
  }
  EXPECT_EQ((*keyframes)[1].frame, 62);
  EXPECT_NE((*keyframes)[2].frame, 100);
}

TEST_F(KeyframeVideoTest, ShotsPastTheEndGetAWarningNotAKeyframe) {
  const std::vector<Shot> shots = {MakeShot(0, 0, 39), MakeShot(1, 40, 119), MakeShot(2, 120, 200),
                                   MakeShot(3, 201, 300)};
  std::vector<std::string> warnings;
  auto keyframes = ExtractKeyframes(*path_, shots, {}, &warnings);
  ASSERT_TRUE(keyframes.ok()) << keyframes.status();
  ASSERT_EQ(keyframes->size(), 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("no keyframes for shots 2 to 3"), std::string::npos) << warnings[0];
}

TEST_F(KeyframeVideoTest, RejectsUnorderedShotsAndStopsOnASinkError) {
  auto status = ExtractKeyframes(*path_, {MakeShot(0, 50, 60), MakeShot(1, 55, 70)}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("shot 1"), std::string::npos) << status;
  int calls = 0;
  status = ForEachKeyframe(*path_, {MakeShot(0, 0, 39), MakeShot(1, 40, 79)}, {}, [&calls](Keyframe) {
    ++calls;
    return absl::ResourceExhaustedError("disk full");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1);
}

// A candidate list of a photo panned slowly (a calm shot); `glitch` gets a
// pale band with dark streaks across a fifth of its height, as a damaged
// stream's smeared macroblock rows look.
std::vector<KeyframeCandidate> PanCandidates(int glitch) {
  absl::StatusOr<cv::Mat> photo = filters::testing::LoadSample("fruits.jpg");
  EXPECT_TRUE(photo.ok()) << photo.status();
  cv::Mat small;
  cv::resize(photo.value_or(cv::Mat(480, 512, CV_8UC3, cv::Scalar(90, 120, 150))), small, cv::Size(272, 160), 0, 0,
             cv::INTER_AREA);
  std::vector<KeyframeCandidate> out;
  for (int i = 0; i < 9; ++i) {
    cv::Mat frame = small(cv::Rect(i, i / 2, 256, 144)).clone();  // a slow pan
    if (i == glitch) {
      cv::rectangle(frame, cv::Rect(0, 50, 256, 30), cv::Scalar(225, 225, 225), cv::FILLED);
      for (int y = 52; y < 80; y += 3) cv::line(frame, {0, y}, {255, y}, cv::Scalar(0, 0, 0));
    }
    KeyframeCandidate c;
    c.frame = 100 + i * 3;
    c.sharpness = Sharpness(frame);
    c.thumbnail = Thumbnail(frame);
    out.push_back(std::move(c));
  }
  return out;
}

TEST(ChooseKeyframeTest, AGlitchedCandidateIsPassedOverThoughItIsSharpest) {
  const std::vector<KeyframeCandidate> candidates = PanCandidates(/*glitch=*/4);
  size_t sharpest = 0;
  for (size_t i = 1; i < candidates.size(); ++i) {
    if (candidates[i].sharpness > candidates[sharpest].sharpness) sharpest = i;
  }
  ASSERT_EQ(sharpest, 4u) << "the stripes should win on sharpness alone";
  const size_t chosen = ChooseKeyframe(candidates, KeyframeOptions{});
  EXPECT_NE(chosen, 4u);
  KeyframeOptions off;
  off.outlier_ratio = 0;
  EXPECT_EQ(ChooseKeyframe(candidates, off), 4u);
}

TEST(ChooseKeyframeTest, WithoutAGlitchTheSharpestWins) {
  std::vector<KeyframeCandidate> candidates = PanCandidates(/*glitch=*/-1);
  candidates[6].sharpness *= 3;  // e.g. the end of a focus pull
  EXPECT_EQ(ChooseKeyframe(candidates, KeyframeOptions{}), 6u);
  candidates.resize(2);
  EXPECT_LT(ChooseKeyframe(candidates, KeyframeOptions{}), 2u);
}

TEST(KeyframeFootageTest, ADamagedStreamsGlitchedFrameIsNotTheKeyframe) {
  // Megamind_bugy.avi is Megamind.avi with decoding damage. In shot 1
  // (frames 98-153) frame 115 shows a smeared band across the man's face and
  // is the sharpest candidate; the keyframe must be another one (frames 119
  // to 139 are clean), so the shot matches its clean twin.
  const std::string path = "/usr/share/doc/opencv-doc/examples/data/Megamind_bugy.avi";
  auto shots = DetectShots(path, ShotDetectionOptions{});
  ASSERT_TRUE(shots.ok()) << shots.status();
  ASSERT_EQ(shots->size(), 4u);
  auto keyframes = ExtractKeyframes(path, *shots);
  ASSERT_TRUE(keyframes.ok()) << keyframes.status();
  ASSERT_EQ(keyframes->size(), 4u);
  EXPECT_NE((*keyframes)[1].frame, 115);
  EXPECT_GE((*keyframes)[1].frame, 119);
}

TEST(KeyframeFootageTest, MegamindKeyframesAreTheFramesTheirIndicesName) {
  // XVID through FFmpeg's decoder: each keyframe must be exactly the frame a
  // straight full read gives at its index.
  const std::string path = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  auto shots = DetectShots(path, ShotDetectionOptions{});
  ASSERT_TRUE(shots.ok()) << shots.status();
  auto keyframes = ExtractKeyframes(path, *shots);
  ASSERT_TRUE(keyframes.ok()) << keyframes.status();
  ASSERT_EQ(keyframes->size(), shots->size());

  VideoReaderOptions all;
  all.full_frames = true;
  auto reader = VideoReader::Open(path, all);
  ASSERT_TRUE(reader.ok()) << reader.status();
  Frame frame;
  size_t k = 0;
  while (k < keyframes->size() && (*reader)->Next(&frame)) {
    if (frame.index != (*keyframes)[k].frame) continue;
    EXPECT_EQ(MeanAbsDiff(frame.full, (*keyframes)[k].image), 0) << "frame " << frame.index;
    EXPECT_TRUE(Contains(KeyframeCandidates((*shots)[k]), frame.index));
    ++k;
  }
  EXPECT_EQ(k, keyframes->size());
}

}  // namespace
}  // namespace dreamshot::dataset::shots

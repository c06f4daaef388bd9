// AnalyzeVideo on OpenCV's sample footage (Megamind.avi: hand-checked cuts at
// 98, 154, 200; see shot_detector_footage_test.cc) and AnalyzeStill on the
// image layouts real folders hold.
#include "dataset/video_analysis.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dataset/filters/test_images.h"
#include "dataset/shots/test_video.h"

namespace dreamshot::dataset {
namespace {

const std::string kMegamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

std::unique_ptr<labels::PeopleDetector> Detector() {
  auto people = labels::PeopleDetector::Create();
  EXPECT_TRUE(people.ok()) << people.status();
  return people.ok() ? std::move(*people) : nullptr;
}

TEST(AnalyzeVideoTest, MegamindShotsEachGetAKeyframeFromTheirMiddleAndALabel) {
  auto people = Detector();
  ASSERT_NE(people, nullptr);
  std::vector<AnalyzedShot> shots;
  VideoAnalysisReport report;
  int64_t progress_calls = 0;
  absl::Status status = AnalyzeVideo(
      kMegamind, {}, people.get(),
      [&](AnalyzedShot s) {
        shots.push_back(std::move(s));
        return absl::OkStatus();
      },
      &report,
      [&](const VideoAnalysisProgress&) {
        ++progress_calls;
        return true;
      });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(report.frames_read, 270);
  EXPECT_EQ(report.shots, 4);
  EXPECT_GT(progress_calls, 270);  // every analysed frame, then every shot
  ASSERT_EQ(shots.size(), 4u);
  const std::vector<int64_t> starts = {0, 98, 154, 200};
  for (size_t i = 0; i < shots.size(); ++i) {
    const AnalyzedShot& s = shots[i];
    EXPECT_EQ(s.shot.index, static_cast<int64_t>(i));
    EXPECT_EQ(s.shot.start_frame, starts[i]);
    ASSERT_TRUE(s.has_keyframe);
    // Candidates span the central half of the shot.
    const double length = s.shot.end_frame - s.shot.start_frame + 1;
    EXPECT_GE(s.keyframe, s.shot.start_frame + 0.25 * length - 1) << i;
    EXPECT_LE(s.keyframe, s.shot.end_frame - 0.25 * length + 1) << i;
    EXPECT_NEAR(s.keyframe_s, s.keyframe / 23.976, 0.05);
    EXPECT_GT(s.sharpness, 0);
    EXPECT_NE(s.analysis.phash, 0u);
    EXPECT_FALSE(s.analysis.label.method.empty());
    if (s.kept()) {
      EXPECT_EQ(s.analysis.training_image.cols, 512);
      EXPECT_EQ(s.analysis.training_image.rows, 512);
      // Megamind is 720x528 without bars: the crop is its centre square.
      EXPECT_EQ(s.analysis.crop.height, 528);
      EXPECT_EQ(s.analysis.crop.width, 528);
      EXPECT_EQ(s.analysis.crop.x, 96);
    }
  }
  // The last shot is the close-up of the man in glasses.
  EXPECT_EQ(shots[3].analysis.label.scale, ShotScale::kClose) << shots[3].analysis.label.evidence;
}

TEST(AnalyzeVideoTest, ShotsOnlySkipsTheKeyframePass) {
  VideoAnalysisOptions options;
  options.analyze_keyframes = false;
  std::vector<AnalyzedShot> shots;
  VideoAnalysisReport report;
  ASSERT_TRUE(AnalyzeVideo(
                  kMegamind, options, nullptr,
                  [&](AnalyzedShot s) {
                    shots.push_back(std::move(s));
                    return absl::OkStatus();
                  },
                  &report)
                  .ok());
  ASSERT_EQ(shots.size(), 4u);
  EXPECT_FALSE(shots[0].has_keyframe);
  EXPECT_EQ(report.keyframe_seconds, 0);
}

TEST(AnalyzeVideoTest, ProgressCanStopIt) {
  VideoAnalysisOptions options;
  options.analyze_keyframes = false;
  absl::Status status = AnalyzeVideo(
      kMegamind, options, nullptr, [](AnalyzedShot) { return absl::OkStatus(); }, nullptr,
      [](const VideoAnalysisProgress& p) { return p.frame < 50; });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
}

TEST(AnalyzeVideoTest, ASinkErrorStopsAndIsReturned) {
  auto people = Detector();
  ASSERT_NE(people, nullptr);
  int calls = 0;
  absl::Status status = AnalyzeVideo(kMegamind, {}, people.get(), [&](AnalyzedShot) {
    ++calls;
    return absl::DataLossError("disk full");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(calls, 1);
}

TEST(AnalyzeVideoTest, UnusableFilesFailNamingThePath) {
  const std::string empty = shots::synthetic::TempPath("empty.mp4");
  std::ofstream(empty).close();
  const std::string garbage = shots::synthetic::TempPath("garbage.avi");
  std::ofstream(garbage) << std::string(4096, 'x');
  VideoAnalysisOptions options;
  options.analyze_keyframes = false;
  for (const std::string& path : {empty, garbage, std::string("/nonexistent/film.mkv")}) {
    absl::Status status = AnalyzeVideo(path, options, nullptr, [](AnalyzedShot) { return absl::OkStatus(); });
    EXPECT_FALSE(status.ok()) << path;
    EXPECT_NE(status.message().find(path), std::string::npos) << status;
  }
}

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void PutChunk(std::string& out, const std::string& type, const std::string& data) {
  PutU32(out, static_cast<uint32_t>(data.size()));
  const std::string body = type + data;
  out += body;
  PutU32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
}

// An 8-bit grey+alpha PNG (colour type 4), opaque.
void WriteGreyAlphaPng(const std::string& path, const cv::Mat& grey) {
  std::string raw;
  for (int y = 0; y < grey.rows; ++y) {
    raw.push_back(0);  // filter: none
    for (int x = 0; x < grey.cols; ++x) {
      raw.push_back(static_cast<char>(grey.at<uint8_t>(y, x)));
      raw.push_back(static_cast<char>(0xFF));
    }
  }
  uLongf size = compressBound(raw.size());
  std::string packed(size, '\0');
  ASSERT_EQ(
      compress(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()), raw.size()),
      Z_OK);
  packed.resize(size);
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  PutU32(header, grey.cols);
  PutU32(header, grey.rows);
  header += std::string("\x08\x04\x00\x00\x00", 5);  // depth 8, grey+alpha, deflate, no filter, no interlace
  PutChunk(png, "IHDR", header);
  PutChunk(png, "IDAT", packed);
  PutChunk(png, "IEND", "");
  std::ofstream(path, std::ios::binary) << png;
}

class AnalyzeStillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    people_ = Detector();
    ASSERT_NE(people_, nullptr);
    auto messi = filters::testing::LoadSample("messi5.jpg");
    ASSERT_TRUE(messi.ok()) << messi.status();
    messi_ = *messi;
  }
  std::string Write(const std::string& name, const cv::Mat& image) {
    const std::string path = shots::synthetic::TempPath(name);
    EXPECT_TRUE(cv::imwrite(path, image)) << path;
    return path;
  }
  std::unique_ptr<labels::PeopleDetector> people_;
  cv::Mat messi_;
};

TEST_F(AnalyzeStillTest, APhotoIsAOneShotSource) {
  const std::string path = Write("messi.png", messi_);
  std::vector<std::string> warnings;
  auto shot = AnalyzeStill(path, {}, *people_, &warnings);
  ASSERT_TRUE(shot.ok()) << shot.status();
  EXPECT_EQ(shot->shot.source, path);
  EXPECT_EQ(shot->shot.detector, "still");
  EXPECT_TRUE(shot->has_keyframe);
  EXPECT_GT(shot->sharpness, 0);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(AnalyzeStillTest, SixteenBitAndGreyAlphaAreConvertedWithAWarning) {
  cv::Mat deep;
  messi_.convertTo(deep, CV_16UC3, 257.0);
  const std::string deep_path = Write("messi16.png", deep);
  std::vector<std::string> warnings;
  auto from_deep = AnalyzeStill(deep_path, {}, *people_, &warnings);
  ASSERT_TRUE(from_deep.ok()) << from_deep.status();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("16-bit"), std::string::npos);
  auto from_8bit = AnalyzeStill(Write("messi8.png", messi_), {}, *people_, nullptr);
  ASSERT_TRUE(from_8bit.ok());
  EXPECT_EQ(from_deep->analysis.phash, from_8bit->analysis.phash);

  // OpenCV cannot write grey+alpha; a PNG of colour type 4 is written by hand.
  cv::Mat grey;
  cv::cvtColor(messi_, grey, cv::COLOR_BGR2GRAY);
  const std::string grey_alpha = shots::synthetic::TempPath("messi_ga.png");
  WriteGreyAlphaPng(grey_alpha, grey);
  warnings.clear();
  auto from_grey_alpha = AnalyzeStill(grey_alpha, {}, *people_, &warnings);
  ASSERT_TRUE(from_grey_alpha.ok()) << from_grey_alpha.status();
  auto from_grey = AnalyzeStill(Write("messi_grey.png", grey), {}, *people_, nullptr);
  ASSERT_TRUE(from_grey.ok());
  EXPECT_EQ(from_grey_alpha->analysis.phash, from_grey->analysis.phash);
}

TEST_F(AnalyzeStillTest, EmptyCorruptAndFloatImagesAreRefusedWithTheReason) {
  const std::string empty = shots::synthetic::TempPath("empty.png");
  std::ofstream(empty).close();
  auto e = AnalyzeStill(empty, {}, *people_, nullptr);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("empty file"), std::string::npos) << e.status();

  const std::string corrupt = shots::synthetic::TempPath("corrupt.jpg");
  std::ofstream(corrupt) << "\xFF\xD8\xFF\xE0 not really a jpeg";
  auto c = AnalyzeStill(corrupt, {}, *people_, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(corrupt), std::string::npos) << c.status();

  cv::Mat floats;
  messi_.convertTo(floats, CV_32FC3, 1 / 255.0);
  auto f = AnalyzeStill(Write("messi_float.tiff", floats), {}, *people_, nullptr);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("32F"), std::string::npos) << f.status();
}

}  // namespace
}  // namespace dreamshot::dataset

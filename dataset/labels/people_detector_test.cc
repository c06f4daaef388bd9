#include "dataset/labels/people_detector.h"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace dreamshot::dataset::labels {
namespace {

// Lena (blurred.png, 512x512, from opencv-doc): one frontal face.
const std::string kLena = "/usr/share/doc/opencv-doc/opencv4/html/blurred.png";
// A campus seen from a first floor (opencv-doc): people walking, small.
const std::string kCampus = "/usr/share/doc/opencv-doc/opencv4/html/Background_Subtraction_Tutorial_frame.jpg";

cv::Mat Read(const std::string& path) {
  cv::Mat m = cv::imread(path);
  EXPECT_FALSE(m.empty()) << path << " is missing: tools/setup.sh installs opencv-doc";
  return m;
}

std::unique_ptr<PeopleDetector> MakeDetector(const PeopleDetectorConfig& config = {}) {
  absl::StatusOr<std::unique_ptr<PeopleDetector>> d = PeopleDetector::Create(config);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? std::move(*d) : nullptr;
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(PeopleDetectorTest, FindsLenasFaceAndScalesTheBoxBack) {
  std::unique_ptr<PeopleDetector> detector = MakeDetector();
  ASSERT_NE(detector, nullptr);
  const cv::Mat lena = Read(kLena);
  ASSERT_FALSE(lena.empty());
  absl::StatusOr<std::vector<Detection>> dets = detector->Detect(lena);
  ASSERT_TRUE(dets.ok()) << dets.status();
  ASSERT_EQ(dets->size(), 1u);  // a face: bodies are not searched
  const Detection face = dets->front();
  EXPECT_EQ(face.kind, DetectionKind::kFace);
  EXPECT_GT(face.score, 0.9);
  EXPECT_EQ(face.source, "haar:haarcascade_frontalface_default.xml");
  EXPECT_NEAR(face.box.y + face.box.height / 2, 297, 15);  // the face centre, by eye
  EXPECT_NEAR(face.box.height, 190, 20);

  // At 4x the detector works on a copy downscaled to 640 px: the box must
  // come back in the large frame's pixels.
  cv::Mat big;
  cv::resize(lena, big, cv::Size(), 4, 4, cv::INTER_LINEAR);
  absl::StatusOr<std::vector<Detection>> big_dets = detector->Detect(big);
  ASSERT_TRUE(big_dets.ok()) << big_dets.status();
  ASSERT_FALSE(big_dets->empty());
  const Box b = big_dets->front().box;
  EXPECT_NEAR(b.height / 4.0, face.box.height, 0.1 * face.box.height);
  EXPECT_NEAR((b.y + b.height / 2) / 4.0, face.box.y + face.box.height / 2, 10);
  EXPECT_NEAR((b.x + b.width / 2) / 4.0, face.box.x + face.box.width / 2, 10);
}

TEST(PeopleDetectorTest, GreyAndBgraFramesWork) {
  std::unique_ptr<PeopleDetector> detector = MakeDetector();
  ASSERT_NE(detector, nullptr);
  const cv::Mat lena = Read(kLena);
  cv::Mat grey, bgra;
  cv::cvtColor(lena, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(lena, bgra, cv::COLOR_BGR2BGRA);
  for (const cv::Mat& m : {grey, bgra}) {
    absl::StatusOr<std::vector<Detection>> dets = detector->Detect(m);
    ASSERT_TRUE(dets.ok()) << dets.status();
    EXPECT_EQ(dets->size(), 1u);
  }
}

TEST(PeopleDetectorTest, FindsSmallFullBodiesWhenThereIsNoFace) {
  std::unique_ptr<PeopleDetector> detector = MakeDetector();
  ASSERT_NE(detector, nullptr);
  absl::StatusOr<std::vector<Detection>> dets = detector->Detect(Read(kCampus));
  ASSERT_TRUE(dets.ok()) << dets.status();
  int full_bodies = 0;
  for (const Detection& d : *dets) {
    EXPECT_FALSE(d.IsFace());
    if (d.kind == DetectionKind::kFullBody && d.score >= 0.5) {
      ++full_bodies;
      EXPECT_LT(d.box.height, 432 / 3) << "people are small in this frame";
    }
  }
  EXPECT_GE(full_bodies, 2);
}

TEST(PeopleDetectorTest, BlankAndFlatFramesHaveNoPeople) {
  std::unique_ptr<PeopleDetector> detector = MakeDetector();
  ASSERT_NE(detector, nullptr);
  cv::Mat flat(1080, 1920, CV_8UC3, cv::Scalar(40, 90, 160));
  cv::Mat gradient(1080, 1920, CV_8UC3);
  for (int y = 0; y < gradient.rows; ++y) gradient.row(y).setTo(cv::Scalar(y * 255 / 1080, 128, 255 - y * 255 / 1080));
  for (const cv::Mat& m : {flat, gradient}) {
    absl::StatusOr<std::vector<Detection>> dets = detector->Detect(m);
    ASSERT_TRUE(dets.ok()) << dets.status();
    EXPECT_TRUE(dets->empty()) << dets->size() << " detections, first " << DetectionKindName(dets->front().kind);
  }
}

TEST(PeopleDetectorTest, BadFramesAreInvalidArguments) {
  std::unique_ptr<PeopleDetector> detector = MakeDetector();
  ASSERT_NE(detector, nullptr);
  EXPECT_EQ(detector->Detect(cv::Mat()).status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status s = detector->Detect(cv::Mat(10, 10, CV_32FC3)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("CV_32FC3"), std::string::npos) << s;
}

TEST(PeopleDetectorTest, MissingOrInvalidCascadeNamesTheFile) {
  PeopleDetectorConfig config;
  config.cascade_dir = "/nonexistent/haarcascades";
  absl::Status s = PeopleDetector::Create(config).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("/nonexistent/haarcascades/haarcascade_frontalface_default.xml"), std::string::npos)
      << s;

  config = PeopleDetectorConfig{};
  config.full_body_cascade =
      WriteTemp("not_a_cascade.xml", "<?xml version=\"1.0\"?>\n<opencv_storage>\n</opencv_storage>\n");
  s = PeopleDetector::Create(config).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(config.full_body_cascade), std::string::npos) << s;

  // An empty name turns a detector off.
  config = PeopleDetectorConfig{};
  config.profile_face_cascade = config.upper_body_cascade = config.full_body_cascade = "";
  config.hog_people = false;
  EXPECT_TRUE(PeopleDetector::Create(config).ok());
}

TEST(PeopleDetectorTest, YuNetModelMustExistAndLoad) {
  PeopleDetectorConfig config;
  config.yunet_model = "/nonexistent/face_detection_yunet_2022mar.onnx";
  absl::Status s = PeopleDetector::Create(config).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("/nonexistent/face_detection_yunet_2022mar.onnx does not exist"), std::string::npos)
      << s;

  config.yunet_model = WriteTemp("garbage.onnx", "this is not an ONNX protobuf");
  s = PeopleDetector::Create(config).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(config.yunet_model + " could not be loaded"), std::string::npos) << s;
}

TEST(PeopleDetectorTest, ConfigRangesAreChecked) {
  PeopleDetectorConfig config;
  config.cascade_scale_factor = 1.0;
  EXPECT_EQ(PeopleDetector::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset::labels

#include "dataset/labels/keyframe_label.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace dreamshot::dataset::labels {
namespace {

const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";
const std::string kHtml = "/usr/share/doc/opencv-doc/opencv4/html/";

cv::Mat Read(const std::string& path) {
  cv::Mat m = cv::imread(path);
  EXPECT_FALSE(m.empty()) << path << " is missing: tools/setup.sh installs opencv-doc";
  return m;
}

// A crop `height` px tall (4:3 landscape, clipped to the image) centred on (cx, cy): zooming in.
cv::Mat CropAround(const cv::Mat& image, int cx, int cy, int height) {
  const int width = height * 4 / 3;
  cv::Rect r(cx - width / 2, cy - height / 2, width, height);
  r &= cv::Rect(0, 0, image.cols, image.rows);
  return image(r).clone();
}

// The image in the middle of a grey canvas `factor` times its size: zooming out.
cv::Mat ZoomOut(const cv::Mat& image, double factor) {
  cv::Mat canvas(int(image.rows * factor), int(image.cols * factor), image.type(), cv::Scalar(110, 110, 110));
  const cv::Rect centre((canvas.cols - image.cols) / 2, (canvas.rows - image.rows) / 2, image.cols, image.rows);
  image.copyTo(canvas(centre));
  return canvas;
}

class KeyframeLabelTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<PeopleDetector>> d = PeopleDetector::Create();
    ASSERT_TRUE(d.ok()) << d.status();
    detector_ = d->release();
  }
  static void TearDownTestSuite() {
    delete detector_;
    detector_ = nullptr;
  }

  ScaleEstimate Label(const cv::Mat& frame, const std::string& name) {
    absl::StatusOr<KeyframeLabel> got = LabelKeyframe(*detector_, frame);
    EXPECT_TRUE(got.ok()) << name << ": " << got.status();
    if (!got.ok()) return {};
    const ScaleLabel& l = got->estimate.label;
    std::printf("%-28s %4dx%-4d %-6s %-3s conf %.2f fine %.2f %-6s %s\n", name.c_str(), frame.cols, frame.rows,
                ShotScaleName(l.scale), FineShotScaleName(l.fine), l.confidence, got->estimate.fine_confidence,
                l.method.c_str(), l.evidence.c_str());
    for (const Detection& d : got->detections) {
      std::printf("    %s %.2f (%d,%d %dx%d) %s\n", DetectionKindName(d.kind), d.score, d.box.x, d.box.y,
                  d.box.width, d.box.height, d.source.c_str());
    }
    return got->estimate;
  }

  static PeopleDetector* detector_;
};

PeopleDetector* KeyframeLabelTest::detector_ = nullptr;

// Photos shipped with opencv-doc whose framing is clear by eye.
TEST_F(KeyframeLabelTest, RealPhotosGetSensibleLabelsWithReasons) {
  // Lena: head and shoulders, face 0.37 of the height.
  ScaleEstimate e = Label(Read(kHtml + "blurred.png"), "lena (blurred.png)");
  EXPECT_EQ(e.label.scale, ShotScale::kClose);
  EXPECT_EQ(e.label.fine, FineShotScale::kClose);
  EXPECT_EQ(e.label.method, "faces");
  EXPECT_GT(e.label.confidence, 0.8);
  EXPECT_NE(e.label.evidence.find("face 0.371 of frame height"), std::string::npos) << e.label.evidence;

  // Two portrait close-ups.
  for (const char* name : {"227943776_1.jpg", "230501201_1.jpg"}) {
    e = Label(Read(kHtml + name), name);
    EXPECT_EQ(e.label.scale, ShotScale::kClose) << name;
    EXPECT_GT(e.label.confidence, 0.8) << name;
  }

  // Mona Lisa: waist up, hands in frame — a medium shot.
  e = Label(Read(kHtml + "julia_facedetect_sample.jpg"), "mona lisa");
  EXPECT_EQ(e.label.fine, FineShotScale::kMedium);
  EXPECT_EQ(e.label.scale, ShotScale::kMedium);
  EXPECT_GT(e.label.confidence, 0.7);

  // Messi, crouched, head to boots in frame: between medium and full. His
  // face (0.11 of the height, head down) sits just above the 0.10 medium/
  // long line, so the label is medium at low confidence — and never close
  // (the larger but weaker crest false positive is not taken as the subject).
  e = Label(Read(kData + "messi5.jpg"), "messi5.jpg");
  EXPECT_NE(e.label.scale, ShotScale::kClose);
  EXPECT_TRUE(e.label.fine == FineShotScale::kMedium || e.label.fine == FineShotScale::kFull);
  EXPECT_LT(e.label.confidence, 0.5);
  ASSERT_TRUE(e.subject.has_value());
  EXPECT_LT(e.measure, 0.15);

  // Campus seen from a first floor: small full figures, no faces — long.
  e = Label(Read(kHtml + "Background_Subtraction_Tutorial_frame.jpg"), "campus");
  EXPECT_EQ(e.label.fine, FineShotScale::kLong);
  EXPECT_EQ(e.label.method, "people");
  ASSERT_TRUE(e.subject.has_value());
  EXPECT_EQ(e.subject->kind, DetectionKind::kFullBody);

  // Basketball: the player on the left is seen head to feet (FS).
  e = Label(Read(kData + "basketball1.png"), "basketball1.png");
  EXPECT_EQ(e.label.scale, ShotScale::kLong);

  // No people: a bowl of fruit, a building, a plane.
  for (const char* name : {"fruits.jpg", "building.jpg", "aero3.jpg"}) {
    e = Label(Read(kData + name), name);
    EXPECT_EQ(e.label.method, "none") << name;
    EXPECT_EQ(e.label.scale, ShotScale::kLong) << name;
    EXPECT_LE(e.label.confidence, 0.2) << name;
  }
}

TEST_F(KeyframeLabelTest, BlankFrameHasNoPeople) {
  const cv::Mat blank(1080, 1920, CV_8UC3, cv::Scalar(20, 20, 20));
  const ScaleEstimate e = Label(blank, "blank 1080p");
  EXPECT_EQ(e.label.method, "none");
  EXPECT_FALSE(e.subject.has_value());
  EXPECT_DOUBLE_EQ(e.label.confidence, 0.2);
}

// Wider views never give closer labels: a sequence of views from tight to
// wide must have non-decreasing fine scales (ECS < CS < MS < FS < LS).
void ExpectWidening(const std::vector<std::pair<std::string, ScaleEstimate>>& views, FineShotScale tightest,
                    FineShotScale widest) {
  ASSERT_FALSE(views.empty());
  EXPECT_EQ(views.front().second.label.fine, tightest) << views.front().first;
  EXPECT_EQ(views.back().second.label.fine, widest) << views.back().first;
  for (size_t i = 1; i < views.size(); ++i) {
    EXPECT_LE(int(views[i - 1].second.label.fine), int(views[i].second.label.fine))
        << views[i - 1].first << " is " << FineShotScaleName(views[i - 1].second.label.fine) << " but the wider "
        << views[i].first << " is " << FineShotScaleName(views[i].second.label.fine);
  }
  for (const auto& [name, e] : views) EXPECT_EQ(e.label.method, "faces") << name;
}

TEST_F(KeyframeLabelTest, LabelsFollowZoomOnLena) {
  const cv::Mat lena = Read(kHtml + "blurred.png");  // face centre (303, 297), 190 px
  std::vector<std::pair<std::string, ScaleEstimate>> views;
  for (int h : {250, 300, 400}) {
    const std::string name = "lena crop " + std::to_string(h);
    views.emplace_back(name, Label(CropAround(lena, 303, 297, h), name));
  }
  views.emplace_back("lena", Label(lena, "lena"));
  for (double f : {2.0, 3.0, 5.0}) {
    const std::string name = "lena zoomed out x" + std::to_string(int(f));
    views.emplace_back(name, Label(ZoomOut(lena, f), name));
  }
  ExpectWidening(views, FineShotScale::kExtremeClose, FineShotScale::kFull);
  EXPECT_EQ(views[3].second.label.scale, ShotScale::kClose);   // the photo itself
  EXPECT_EQ(views[4].second.label.scale, ShotScale::kMedium);  // x2
}

TEST_F(KeyframeLabelTest, LabelsFollowZoomOnMonaLisa) {
  const cv::Mat mona = Read(kHtml + "julia_facedetect_sample.jpg");  // face centre (235, 222), 144 px
  std::vector<std::pair<std::string, ScaleEstimate>> views;
  for (int h : {200, 300, 450}) {
    const std::string name = "mona crop " + std::to_string(h);
    views.emplace_back(name, Label(CropAround(mona, 235, 222, h), name));
  }
  views.emplace_back("mona", Label(mona, "mona"));
  for (double f : {2.0, 3.0, 4.0}) {
    const std::string name = "mona zoomed out x" + std::to_string(int(f));
    views.emplace_back(name, Label(ZoomOut(mona, f), name));
  }
  ExpectWidening(views, FineShotScale::kExtremeClose, FineShotScale::kLong);
  EXPECT_EQ(views[3].second.label.scale, ShotScale::kMedium);
}

TEST_F(KeyframeLabelTest, CropAroundMessisFaceIsCloserThanTheFrame) {
  const cv::Mat messi = Read(kData + "messi5.jpg");  // head centre about (240, 95)
  const ScaleEstimate tight = Label(CropAround(messi, 240, 95, 120), "messi crop 120");
  const ScaleEstimate full = Label(messi, "messi5.jpg");
  EXPECT_EQ(tight.label.scale, ShotScale::kClose);
  EXPECT_LT(int(tight.label.fine), int(full.label.fine));
  EXPECT_NE(full.label.scale, ShotScale::kClose);
}

}  // namespace
}  // namespace dreamshot::dataset::labels

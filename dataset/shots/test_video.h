// Synthetic footage for the shot tests and the benchmark: textured scenes
// seen through a slowly moving camera, written as MJPG AVI with OpenCV's
// VideoWriter, so that every cut, fade and blur is known by construction.
#ifndef DREAMSHOT_DATASET_SHOTS_TEST_VIDEO_H_
#define DREAMSHOT_DATASET_SHOTS_TEST_VIDEO_H_

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"

namespace cv {
class VideoWriter;
}  // namespace cv

namespace dreamshot::dataset::shots::synthetic {

// $TEST_TMPDIR/name (or /tmp/name outside Bazel tests).
std::string TempPath(const std::string& name);

// A scene: smooth random texture between two colours, larger than the frame,
// filmed by a camera that pans `pan_px` pixels and zooms in by `zoom` (a
// fraction) per frame, with a disc crossing it.
struct SceneSpec {
  int seed = 1;
  cv::Scalar colour_a{40, 90, 160}, colour_b{200, 180, 60};  // BGR
  double pan_px = 1.0;
  double zoom = 0;
};

class Scene {
 public:
  Scene(const SceneSpec& spec, cv::Size frame);
  // Frame number t of the scene (t from 0).
  cv::Mat Frame(int t) const;

 private:
  SceneSpec spec_;
  cv::Size frame_;
  cv::Mat canvas_;  // BGR, 2x the frame
};

// `frame` with black bars top and bottom leaving a picture of `aspect`
// (width / height), the picture squeezed into the remaining rows.
cv::Mat Letterbox(const cv::Mat& frame, double aspect);

// `frame` with its brightness scaled by `factor` (fades).
cv::Mat Dim(const cv::Mat& frame, double factor);

// Writes an MJPG AVI file frame by frame (closed by the destructor).
class VideoFile {
 public:
  VideoFile();
  ~VideoFile();
  // INTERNAL when OpenCV cannot open a writer for `path`.
  absl::Status Open(const std::string& path, cv::Size size, double fps);
  void Write(const cv::Mat& frame);
  void Close();

 private:
  std::unique_ptr<cv::VideoWriter> writer_;
};

// All of `frames` to `path` (MJPG AVI at `fps`).
absl::Status WriteVideo(const std::string& path, const std::vector<cv::Mat>& frames, double fps);

}  // namespace dreamshot::dataset::shots::synthetic

#endif  // DREAMSHOT_DATASET_SHOTS_TEST_VIDEO_H_

// Finds people in a keyframe with the detectors OpenCV ships: Haar cascades
// for frontal and profile faces, upper and full bodies, the HOG people
// detector, and — when a model file is given — the YuNet DNN face detector
// (cv::FaceDetectorYN). Nothing is downloaded: cascade files come from
// Debian's opencv-data, a YuNet .onnx must be supplied by the caller.
//
// Detection runs on a downscaled grey copy (sizes below) and boxes are
// scaled back to the source frame. Not thread-safe (OpenCV's cascades keep
// per-call state): use one detector per thread.
#ifndef DREAMSHOT_DATASET_LABELS_PEOPLE_DETECTOR_H_
#define DREAMSHOT_DATASET_LABELS_PEOPLE_DETECTOR_H_

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataset/labels/detection.h"

namespace dreamshot::dataset::labels {

struct PeopleDetectorConfig {
  // Haar cascades: a bare file name is looked up in `cascade_dir`, a path
  // with a '/' is used as is; an empty name turns that detector off.
  std::string cascade_dir = "/usr/share/opencv4/haarcascades";
  std::string frontal_face_cascade = "haarcascade_frontalface_default.xml";
  std::string profile_face_cascade = "haarcascade_profileface.xml";
  std::string upper_body_cascade = "haarcascade_upperbody.xml";
  std::string full_body_cascade = "haarcascade_fullbody.xml";
  bool hog_people = true;  // cv::HOGDescriptor::getDefaultPeopleDetector()
  // YuNet face model (e.g. face_detection_yunet_2022mar.onnx from
  // opencv_zoo). When set it replaces both Haar face cascades: it is far
  // more accurate on turned, tilted and dim faces.
  std::string yunet_model;
  double yunet_score_threshold = 0.6;

  // Detection image sizes (longest side, never upscaled). 640 keeps a 1080p
  // frame at 640x360: a face of `min_face_px` = 20 px there is 5.6% of the
  // frame height (60 px at 1080p) — smaller faces only occur in full and
  // long shots, where the body detectors take over (Haar full body from
  // 28 px = 8% of the height; HOG's 64x128 window from 128 px = 36%).
  int max_side = 640;
  int hog_max_side = 640;
  int min_face_px = 20;
  double cascade_scale_factor = 1.1;
  // Haar "neighbours": how many overlapping windows must agree. 5 for faces
  // (OpenCV's default of 3 fires on textures), 3 for the weaker body cascades.
  int face_min_neighbors = 5;
  int body_min_neighbors = 3;
  double hog_hit_threshold = 0.0;  // SVM margin; OpenCV's default

  // Cheaper order for labelling: the shot-scale rules use the largest face
  // and fall back to bodies only when there is none, so by default profile
  // faces are searched only without a frontal face and bodies only without
  // any face (a frame with a frontal face costs one cascade, not six).
  bool always_profile = false;
  bool always_bodies = false;
};

// Score per source, all in [0, 1]:
//   Haar:  1 - exp(-n / 15), n = the grouped window count ("neighbours"):
//          true faces in the test photos gather 15–100, texture false
//          positives 5–20, so 0.28 at the face minimum of 5, 0.63 at 15.
//   HOG:   1 - exp(-w), w = the SVM margin (0.5 → 0.39, 1.5 → 0.78).
//   YuNet: the network's own face score.
class PeopleDetector {
 public:
  // Loads every configured model. FAILED_PRECONDITION naming the file when
  // one is missing or is not a valid cascade / ONNX model.
  static absl::StatusOr<std::unique_ptr<PeopleDetector>> Create(const PeopleDetectorConfig& config = {});
  ~PeopleDetector();
  PeopleDetector(const PeopleDetector&) = delete;
  PeopleDetector& operator=(const PeopleDetector&) = delete;

  // Detections in `frame`'s pixels (8-bit BGR, BGRA or grey), faces first,
  // each kind sorted by box height, largest first. INVALID_ARGUMENT for an
  // empty or non-8-bit frame; an OpenCV exception becomes INTERNAL.
  absl::StatusOr<std::vector<Detection>> Detect(const cv::Mat& frame);

  const PeopleDetectorConfig& config() const;

 private:
  struct Impl;
  explicit PeopleDetector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_PEOPLE_DETECTOR_H_

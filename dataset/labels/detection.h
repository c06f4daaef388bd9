// A person (or part of one) found in a keyframe. Light header (no OpenCV) so
// the shot-scale rules can be tested and reused without the detectors.
#ifndef DREAMSHOT_DATASET_LABELS_DETECTION_H_
#define DREAMSHOT_DATASET_LABELS_DETECTION_H_

#include <string>

#include "dataset/types.h"

namespace dreamshot::dataset::labels {

enum class DetectionKind {
  kFace,       // frontal face (Haar or YuNet): box ≈ brows..chin
  kProfile,    // side-view face (Haar profile cascade, both directions)
  kUpperBody,  // head and shoulders (Haar upper-body cascade)
  kFullBody,   // the whole figure, head to feet (Haar full-body or HOG)
};

// "face", "profile", "upper_body", "full_body".
const char* DetectionKindName(DetectionKind kind);

struct Detection {
  DetectionKind kind = DetectionKind::kFace;
  Box box;             // in the source frame's pixels
  double score = 0;    // [0, 1]; see people_detector.h for how each source maps to it
  std::string source;  // which detector: "haar:haarcascade_frontalface_default.xml", "yunet", "hog"

  bool IsFace() const { return kind == DetectionKind::kFace || kind == DetectionKind::kProfile; }
};

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_DETECTION_H_

#include "dataset/labels/detection.h"

namespace dreamshot::dataset::labels {

const char* DetectionKindName(DetectionKind kind) {
  switch (kind) {
    case DetectionKind::kFace:
      return "face";
    case DetectionKind::kProfile:
      return "profile";
    case DetectionKind::kUpperBody:
      return "upper_body";
    case DetectionKind::kFullBody:
      return "full_body";
  }
  return "unknown";
}

}  // namespace dreamshot::dataset::labels

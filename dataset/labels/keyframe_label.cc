#include "dataset/labels/keyframe_label.h"

#include <utility>

#include "core/status_macros.h"

namespace dreamshot::dataset::labels {

absl::StatusOr<KeyframeLabel> LabelKeyframe(PeopleDetector& detector, const cv::Mat& frame,
                                            const ShotScaleConfig& config) {
  KeyframeLabel out;
  ASSIGN_OR_RETURN(out.detections, detector.Detect(frame));
  ASSIGN_OR_RETURN(out.estimate, EstimateShotScale(out.detections, frame.cols, frame.rows, config));
  return out;
}

}  // namespace dreamshot::dataset::labels

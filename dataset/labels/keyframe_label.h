// One call from a keyframe to its shot-scale estimate: detect people, then
// apply the shot-scale rules (shot_scale.h). The estimate is not ground truth.
#ifndef DREAMSHOT_DATASET_LABELS_KEYFRAME_LABEL_H_
#define DREAMSHOT_DATASET_LABELS_KEYFRAME_LABEL_H_

#include <vector>

#include <opencv2/core/mat.hpp>

#include "absl/status/statusor.h"
#include "dataset/labels/detection.h"
#include "dataset/labels/people_detector.h"
#include "dataset/labels/shot_scale.h"

namespace dreamshot::dataset::labels {

struct KeyframeLabel {
  ScaleEstimate estimate;
  std::vector<Detection> detections;  // everything found, for reports and debugging
};

absl::StatusOr<KeyframeLabel> LabelKeyframe(PeopleDetector& detector, const cv::Mat& frame,
                                            const ShotScaleConfig& config = {});

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_KEYFRAME_LABEL_H_

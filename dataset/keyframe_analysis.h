// Everything the pool needs from one keyframe, in the order that makes
// sense: letterbox bars off first (they would read as low contrast and
// move the crop), the quality filters on the picture that remains, its
// perceptual hash, the shot-scale estimate, and the training-resolution
// centre crop with its box in source pixels. A dropped frame still gets its
// hash and label (reports show what was dropped), but no training image.
#ifndef DREAMSHOT_DATASET_KEYFRAME_ANALYSIS_H_
#define DREAMSHOT_DATASET_KEYFRAME_ANALYSIS_H_

#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "absl/status/statusor.h"
#include "dataset/filters/frame_filters.h"
#include "dataset/filters/letterbox.h"
#include "dataset/filters/resize_crop.h"
#include "dataset/labels/people_detector.h"
#include "dataset/labels/shot_scale.h"
#include "dataset/types.h"

namespace dreamshot::dataset {

struct KeyframeAnalysisConfig {
  filters::LetterboxConfig letterbox;
  filters::FilterConfig filters;
  filters::ResizeCropConfig crop;
  labels::ShotScaleConfig scale;
};

struct KeyframeAnalysis {
  Box content;  // the picture inside letterbox/pillarbox bars, in source pixels
  Box crop;     // the training crop, in source pixels (empty when dropped)
  std::vector<DropReason> drops;
  uint64_t phash = 0;
  ScaleLabel label;
  cv::Mat training_image;  // BGR, crop config's size; empty when dropped
};

// INVALID_ARGUMENT for images the filters cannot read (odd channel counts).
absl::StatusOr<KeyframeAnalysis> AnalyzeKeyframe(const cv::Mat& frame, labels::PeopleDetector& people,
                                                 const KeyframeAnalysisConfig& config = {});

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_KEYFRAME_ANALYSIS_H_

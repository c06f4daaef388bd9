#include "dataset/keyframe_analysis.h"

#include "core/status_macros.h"
#include "dataset/filters/perceptual_hash.h"
#include "dataset/labels/keyframe_label.h"

namespace dreamshot::dataset {

absl::StatusOr<KeyframeAnalysis> AnalyzeKeyframe(const cv::Mat& frame, labels::PeopleDetector& people,
                                                 const KeyframeAnalysisConfig& config) {
  KeyframeAnalysis out;
  ASSIGN_OR_RETURN(filters::LetterboxCrop picture, filters::RemoveLetterbox(frame, config.letterbox));
  out.content = picture.content;
  ASSIGN_OR_RETURN(out.drops, filters::RunFilters(picture.image, config.filters));
  ASSIGN_OR_RETURN(out.phash, filters::PerceptualHash(picture.image));
  // The scale is judged on the picture as it will be seen, bars excluded:
  // face height relative to the bars' height would read too small.
  ASSIGN_OR_RETURN(labels::KeyframeLabel label, labels::LabelKeyframe(people, picture.image, config.scale));
  out.label = label.estimate.label;
  if (out.drops.empty()) {
    ASSIGN_OR_RETURN(filters::ResizedCrop crop, filters::CenterCropAndResize(frame, picture.content, config.crop));
    out.crop = crop.crop;
    out.training_image = crop.image;
  }
  return out;
}

}  // namespace dreamshot::dataset

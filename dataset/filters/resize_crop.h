// The training image of a keyframe: the largest centred crop of the
// training aspect, resized to the training resolution. The crop is returned
// in source pixels because cropping changes the apparent shot scale (a
// square crop of a 2.39:1 medium shot can read as a close-up), so the
// dataset records what the labeller's frame and the model's frame were.
#ifndef DREAMSHOT_DATASET_FILTERS_RESIZE_CROP_H_
#define DREAMSHOT_DATASET_FILTERS_RESIZE_CROP_H_

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "dataset/types.h"

namespace dreamshot::dataset::filters {

struct ResizeCropConfig {
  // Output size; the crop has this aspect. 512×512: Stable Diffusion 1.5's
  // training resolution.
  int width = 512;
  int height = 512;
  // Crops whose shorter side is under this are refused: 384 allows at most
  // 4/3 upscaling to 512 (FilterConfig::min_side drops such frames earlier
  // with a DropReason; keep the two equal).
  int min_crop_side = 384;
};

struct ResizedCrop {
  cv::Mat image;  // CV_8UC3 BGR, config.width × config.height
  Box crop;       // in the input image's pixels
};

// The largest box of aspect width:height centred in `region`, rounded to
// whole pixels (extra pixel of an odd margin on the right/bottom side).
// Empty when the region or the aspect is.
Box CenterCropBox(const Box& region, int width, int height);

// Crops the centre of `region` (the whole image when omitted, or e.g. the
// letterbox content box) to the configured aspect and resizes it: INTER_AREA
// when shrinking (averages, no aliasing), INTER_LANCZOS4 when enlarging
// (sharpest of OpenCV's filters; its slight ringing is below what the 4/3
// upscaling limit lets show). Input as ToBgr8 accepts (grey, BGR, BGRA,
// 8/16-bit); the output is 8-bit BGR.
// INVALID_ARGUMENT for an unsupported image, a region outside it, a
// non-positive output size, or a crop smaller than min_crop_side (naming both).
absl::StatusOr<ResizedCrop> CenterCropAndResize(const cv::Mat& image,
                                                const ResizeCropConfig& config = {});
absl::StatusOr<ResizedCrop> CenterCropAndResize(const cv::Mat& image, const Box& region,
                                                const ResizeCropConfig& config = {});

}  // namespace dreamshot::dataset::filters

#endif  // DREAMSHOT_DATASET_FILTERS_RESIZE_CROP_H_

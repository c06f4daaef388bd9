#include "dataset/filters/resize_crop.h"

#include <algorithm>
#include <cstdint>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dataset/filters/image_convert.h"
#include "dataset/filters/letterbox.h"

namespace dreamshot::dataset::filters {

Box CenterCropBox(const Box& region, int width, int height) {
  if (region.empty() || width <= 0 || height <= 0) return Box{};
  // Integer cross-multiplication: exact for any size, no float rounding.
  const int64_t w = region.width, h = region.height;
  int64_t crop_w = w, crop_h = h;
  if (w * height > h * width) {
    crop_w = (h * width + height / 2) / height;  // region is wider: trim the sides
  } else {
    crop_h = (w * height + width / 2) / width;  // region is taller: trim top and bottom
  }
  crop_w = std::clamp<int64_t>(crop_w, 1, w);
  crop_h = std::clamp<int64_t>(crop_h, 1, h);
  return Box{region.x + static_cast<int>((w - crop_w) / 2),
             region.y + static_cast<int>((h - crop_h) / 2), static_cast<int>(crop_w),
             static_cast<int>(crop_h)};
}

absl::StatusOr<ResizedCrop> CenterCropAndResize(const cv::Mat& image,
                                                const ResizeCropConfig& config) {
  return CenterCropAndResize(image, Box{0, 0, image.cols, image.rows}, config);
}

absl::StatusOr<ResizedCrop> CenterCropAndResize(const cv::Mat& image, const Box& region,
                                                const ResizeCropConfig& config) {
  if (config.width <= 0 || config.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("output size ", config.width, "x", config.height, " is not positive"));
  }
  RETURN_IF_ERROR(CheckSupported(image));
  RETURN_IF_ERROR(CropToBox(image, region).status());  // the region lies inside the image
  const Box crop = CenterCropBox(region, config.width, config.height);
  if (std::min(crop.width, crop.height) < config.min_crop_side) {
    return absl::InvalidArgumentError(
        absl::StrCat("centre crop ", crop.width, "x", crop.height, " of ", image.cols, "x",
                     image.rows, " has shorter side < ", config.min_crop_side,
                     " px: too small to resize to ", config.width, "x", config.height));
  }
  try {
    ASSIGN_OR_RETURN(const cv::Mat bgr,
                     ToBgr8(image(cv::Rect(crop.x, crop.y, crop.width, crop.height))));
    ResizedCrop out{cv::Mat(), crop};
    const cv::Size size(config.width, config.height);
    if (bgr.size() == size) {
      out.image = bgr.clone();
    } else {
      const bool shrinking = crop.width >= config.width && crop.height >= config.height;
      cv::resize(bgr, out.image, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LANCZOS4);
    }
    return out;
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("crop and resize of ", DescribeImage(image)));
  }
}

}  // namespace dreamshot::dataset::filters

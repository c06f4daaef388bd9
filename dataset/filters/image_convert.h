// Keyframes reach the filters in whatever layout the decoder or a test
// produced; these turn the supported ones into the two layouts the filters
// work on and refuse the rest with a Status that says what arrived. Also the
// one place where cv::Exception becomes a Status for this package.
//
// Supported: 8-bit or 16-bit unsigned, with 1 (grey), 3 (BGR) or 4 (BGRA)
// channels. 16-bit is scaled by 255/65535 (so 65535 → 255). Alpha is dropped:
// keyframes are opaque, and a transparent pixel's colour is still its colour.
#ifndef DREAMSHOT_DATASET_FILTERS_IMAGE_CONVERT_H_
#define DREAMSHOT_DATASET_FILTERS_IMAGE_CONVERT_H_

#include <opencv2/core.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::dataset::filters {

// CV_8UC1 luma (BT.601 weights, cv::COLOR_BGR2GRAY). An input that is
// already CV_8UC1 is returned as is (sharing its pixels).
// INVALID_ARGUMENT for an empty image, another depth, or a channel count
// other than 1, 3 or 4 (naming it).
absl::StatusOr<cv::Mat> ToGrey8(const cv::Mat& image);

// CV_8UC3 BGR; grey is replicated into the three channels. An input that is
// already CV_8UC3 is returned as is (sharing its pixels). Errors as ToGrey8.
absl::StatusOr<cv::Mat> ToBgr8(const cv::Mat& image);

// An area-average (cv::INTER_AREA) resize to `size`, by way of exact 2×2
// halvings while the image stays at least min_final_ratio × `size`: OpenCV
// halves in a SIMD fast path, while other ratios take a generic path ~30×
// slower per source pixel (1080p grey to 32×32: ~2 ms instead of ~8). The
// result is the direct area average up to rounding and a slightly different
// pixel grid (a halving drops an odd last row or column); a final step that
// still averages ≥ 4×4 pixels per output pixel absorbs most of that (pHash
// of the half-size sample photos: max 4 bits from the original, as direct
// INTER_AREA gives; ratio 1 gives 6). Enlarging falls back to INTER_LINEAR.
// May throw cv::Exception.
cv::Mat AreaResize(const cv::Mat& image, cv::Size size, int min_final_ratio = 4);

// OK, or INVALID_ARGUMENT naming what is unsupported about `image`.
absl::Status CheckSupported(const cv::Mat& image);

// "1920x1080 8UC3": for error messages.
std::string DescribeImage(const cv::Mat& image);

// An OpenCV exception as INTERNAL, prefixed with what we were doing
// ("letterbox detection on 1920x1080 8UC3: <cv message>").
absl::Status FromCvException(const cv::Exception& e, absl::string_view context);

}  // namespace dreamshot::dataset::filters

#endif  // DREAMSHOT_DATASET_FILTERS_IMAGE_CONVERT_H_

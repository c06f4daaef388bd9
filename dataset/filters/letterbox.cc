#include "dataset/filters/letterbox.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <opencv2/imgproc.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dataset/filters/image_convert.h"

namespace dreamshot::dataset::filters {
namespace {

// Per line, the fraction of its pixels that are dark. `dark` holds 1 for
// dark pixels, 0 otherwise; dim 1 sums each row, dim 0 each column.
std::vector<double> DarkFractions(const cv::Mat& dark, int dim) {
  cv::Mat sums;
  cv::reduce(dark, sums, dim, cv::REDUCE_SUM, CV_32S);
  const double length = dim == 1 ? dark.cols : dark.rows;
  std::vector<double> fractions(sums.total());
  for (size_t i = 0; i < fractions.size(); ++i) {
    fractions[i] = sums.at<int>(static_cast<int>(i)) / length;
  }
  return fractions;
}

// Lines of bar from one end: through mostly-dark lines, up to and including
// the last black one.
int BarFromEdge(const std::vector<double>& fractions, bool from_start,
                const LetterboxConfig& config) {
  const int n = static_cast<int>(fractions.size());
  int bar = 0;
  for (int k = 0; k < n; ++k) {
    const double f = fractions[from_start ? k : n - 1 - k];
    if (f < config.dark_line_fraction) break;
    if (f >= config.black_line_fraction) bar = k + 1;
  }
  return bar;
}

// The two bars of one axis after the symmetry and minimum-content rules.
std::pair<int, int> AxisBars(const std::vector<double>& fractions, const LetterboxConfig& config) {
  const int n = static_cast<int>(fractions.size());
  int start = BarFromEdge(fractions, true, config);
  int end = BarFromEdge(fractions, false, config);
  const int tolerance =
      std::max(config.symmetry_tolerance_px,
               static_cast<int>(std::lround(config.symmetry_tolerance_fraction * n)));
  if (std::abs(start - end) > tolerance) start = end = std::min(start, end);
  if (n - start - end < config.min_content_fraction * n) return {0, 0};
  return {start, end};
}

}  // namespace

absl::StatusOr<Box> DetectContentBox(const cv::Mat& image, const LetterboxConfig& config) {
  ASSIGN_OR_RETURN(const cv::Mat grey, ToGrey8(image));
  try {
    cv::Mat dark;  // 1 where luma ≤ bar_max_luma
    cv::threshold(grey, dark, config.bar_max_luma, 1, cv::THRESH_BINARY_INV);
    const auto [top, bottom] = AxisBars(DarkFractions(dark, 1), config);
    const cv::Mat picture_rows = dark.rowRange(top, dark.rows - bottom);
    const auto [left, right] = AxisBars(DarkFractions(picture_rows, 0), config);
    return Box{left, top, grey.cols - left - right, grey.rows - top - bottom};
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("letterbox detection on ", DescribeImage(image)));
  }
}

absl::StatusOr<cv::Mat> CropToBox(const cv::Mat& image, const Box& box) {
  if (box.empty() || box.x < 0 || box.y < 0 || box.x + box.width > image.cols ||
      box.y + box.height > image.rows) {
    return absl::InvalidArgumentError(absl::StrCat("crop box ", box.width, "x", box.height, "+",
                                                   box.x, "+", box.y, " is empty or outside the ",
                                                   image.cols, "x", image.rows, " image"));
  }
  return image(cv::Rect(box.x, box.y, box.width, box.height));
}

absl::StatusOr<LetterboxCrop> RemoveLetterbox(const cv::Mat& image, const LetterboxConfig& config) {
  ASSIGN_OR_RETURN(const Box content, DetectContentBox(image, config));
  ASSIGN_OR_RETURN(cv::Mat cropped, CropToBox(image, content));
  return LetterboxCrop{std::move(cropped), content};
}

}  // namespace dreamshot::dataset::filters

// Black bars around the picture: letterbox (top and bottom, a wide film in a
// 16:9 or 4:3 frame), pillarbox (left and right, a 4:3 film in 16:9) or both
// (windowbox). Bars are not part of the shot: left in, they make a close-up
// read as a wider shot and teach the model to paint bars.
//
// Rule. A line (row or column) is *black* when at least black_line_fraction
// of its pixels have luma ≤ bar_max_luma (noise and compression ringing
// stay under it; a stray bright pixel does not break a bar). A line is
// *mostly dark* when at least dark_line_fraction of its pixels do: a bar
// line that carries subtitle letters. From each edge the bar runs through
// mostly-dark lines and ends after the last black one, so subtitles burnt
// into a bar do not end the bar early, but the bar's inner edge is always a
// clean black line.
// Bars are centred in practice (the picture is centred when boxed), and dark
// picture next to one bar (a night sky) would otherwise be eaten, so the two
// bars of an axis must agree: when they differ by more than
// max(symmetry_tolerance_px, symmetry_tolerance_fraction × side), both are cut
// to the smaller one. Cropping too little leaves a sliver of black; cropping
// too much would cut picture. An axis whose content would keep less than
// min_content_fraction of the frame (a black frame) is not cropped at all:
// the black filter handles those frames.
// Columns are judged within the rows left after the top/bottom bars.
#ifndef DREAMSHOT_DATASET_FILTERS_LETTERBOX_H_
#define DREAMSHOT_DATASET_FILTERS_LETTERBOX_H_

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "dataset/types.h"

namespace dreamshot::dataset::filters {

struct LetterboxConfig {
  int bar_max_luma = 24;  // of 255; 16-bit input is scaled first
  double black_line_fraction = 0.98;
  double dark_line_fraction = 0.6;  // subtitle glyphs cover < 40% of a line
  int symmetry_tolerance_px = 2;    // odd bar splits (138 / 139) and rounding
  double symmetry_tolerance_fraction = 0.01;
  double min_content_fraction = 0.25;
};

// The picture inside the bars, in the image's pixels; the whole image when
// there are none. INVALID_ARGUMENT for unsupported images (image_convert.h).
absl::StatusOr<Box> DetectContentBox(const cv::Mat& image, const LetterboxConfig& config = {});

// The part of `image` inside `box`: a view sharing its pixels (clone() to
// own them). INVALID_ARGUMENT when the box is empty or leaves the image.
absl::StatusOr<cv::Mat> CropToBox(const cv::Mat& image, const Box& box);

struct LetterboxCrop {
  cv::Mat image;  // a view into the input
  Box content;    // where it is, in the input's pixels
};
// DetectContentBox then CropToBox.
absl::StatusOr<LetterboxCrop> RemoveLetterbox(const cv::Mat& image,
                                              const LetterboxConfig& config = {});

}  // namespace dreamshot::dataset::filters

#endif  // DREAMSHOT_DATASET_FILTERS_LETTERBOX_H_

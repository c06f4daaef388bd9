// Quality checks on a keyframe before it enters the shot pool: black or
// blank frames (fades, slates), low contrast (haze, washed-out transfers),
// blur (motion, focus pulls), subtitle/caption-heavy frames (optional) and
// frames too small to train on once cropped.
//
// Measuring and deciding are split: MeasureFrame turns pixels into numbers
// (the only step that can fail), the Check* functions compare numbers with
// FilterConfig thresholds and say why a frame fails, with the measured value
// and the threshold in the detail ("variance of Laplacian 12.3 < 60"), so a
// dropped frame's reason can be audited and thresholds re-tuned from logs.
//
// Luma statistics, blur and text are measured on a grey copy resized to
// kAnalysisWidth columns (aspect kept), so thresholds do not depend on the
// source resolution: 512 is the training resolution, so "sharp enough" means
// sharp at the size the model will see (a soft 4K frame downscaled to 512
// is sharp; a 480p frame upscaled to 512 is judged with its upscaling blur).
#ifndef DREAMSHOT_DATASET_FILTERS_FRAME_FILTERS_H_
#define DREAMSHOT_DATASET_FILTERS_FRAME_FILTERS_H_

#include <opencv2/core.hpp>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "dataset/types.h"

namespace dreamshot::dataset::filters {

inline constexpr int kAnalysisWidth = 512;

// DropReason::filter values.
inline constexpr char kBlackFilter[] = "black";
inline constexpr char kLowContrastFilter[] = "low_contrast";
inline constexpr char kBlurFilter[] = "blur";
inline constexpr char kTextFilter[] = "text";
inline constexpr char kTooSmallFilter[] = "too_small";

// Luma values are on the 0–255 scale of 8-bit images (16-bit input is scaled).
// Defaults were set on the OpenCV sample photos and synthetic frames in
// frame_filters_test.cc; see the comment on each.
struct FilterConfig {
  // Black: mean luma below this. Decoded video maps reference black to 0,
  // so the last frames of a fade average a few units, while a dark but
  // readable night scene usually averages 15 or more (the darkest sample
  // photo with content, LinuxLogo.jpg, averages 15); 10 sits between.
  bool check_black = true;
  double black_max_mean_luma = 10;
  // Blank: a flat frame of any colour (white flash, title card background):
  // luma std dev below this. Grain on a flat frame alone measures 1–3.
  double blank_max_luma_std = 3;

  // Low contrast: luma std dev (RMS contrast ×255) below this. The sample
  // photos measure 22–126 (most 40–85); the grey-on-grey document shots
  // 11–12; fog and washed-out transfers land there too.
  bool check_contrast = true;
  double min_luma_std = 15;

  // Blur: variance of the Laplacian (3×3 aperture) of the analysis image
  // below this. Of the 91 OpenCV sample images 80 measure 80–17000 at 512
  // columns; the rest are flat logos and shapes and the motion-blurred and
  // defocused samples (2–41). A Gaussian blur of sigma 2 (at 512 columns)
  // brings every one under 35, sigma 1 about half under 60. 40 drops clear
  // blur but keeps shallow-focus frames (soft backgrounds lower the variance).
  bool check_blur = true;
  double min_laplacian_variance = 40;

  // Text: fraction of the lower third (where subtitles and captions sit)
  // covered by text-like blobs (see MeasureTextFraction) above this. The
  // 88 sample photos measure at most 0.028 (a chessboard), most 0; with one
  // outlined putText subtitle line (12 px glyphs at 512 columns) 80 of them
  // exceed 0.03. Two 1080p subtitle lines (~45 × 1000 px each, over the
  // 1920 × 360 lower third) would cover ~0.13.
  // Off by default: a heuristic, and films legitimately show signs and text.
  bool check_text = false;
  double max_text_fraction = 0.03;

  // Too small: shorter side below this, in pixels of the image checked
  // (after letterbox removal). 384 allows at most 4/3 upscaling to 512;
  // more and the model learns the upscaler's softness.
  bool check_size = true;
  int min_side = 384;
};

// What MeasureFrame measured. Fields a disabled filter does not need stay -1.
struct FrameMeasurements {
  int width = 0, height = 0;  // of the image measured
  double mean_luma = -1;
  double luma_std = -1;
  double laplacian_variance = -1;
  double text_fraction = -1;
};

// Measures what the enabled filters of `config` need. The image may be 8- or
// 16-bit grey, BGR or BGRA; INVALID_ARGUMENT otherwise (image_convert.h).
absl::StatusOr<FrameMeasurements> MeasureFrame(const cv::Mat& image,
                                               const FilterConfig& config = {});

// The text heuristic alone, on an 8-bit grey image of kAnalysisWidth columns.
// In the bottom third: thin strokes are found with a 7×7 top-hat and
// black-hat (light and dark text; subtitles are white or yellow with a dark
// outline, so their strokes stand out by ≥ 128 of 255 where texture mostly
// does not), a 9×1 closing joins the letters of a line, and the joined blobs
// that look like a line of text (glyph height 6–40 px, at least twice as wide
// as tall, at least 30% of the box covered by strokes) are counted. Returns
// their total box area over the area of the bottom third.
double MeasureTextFraction(const cv::Mat& analysis_grey);

// Each returns nullopt when the frame passes (or the check is disabled).
std::optional<DropReason> CheckBlack(const FrameMeasurements& m, const FilterConfig& config);
std::optional<DropReason> CheckContrast(const FrameMeasurements& m, const FilterConfig& config);
std::optional<DropReason> CheckBlur(const FrameMeasurements& m, const FilterConfig& config);
std::optional<DropReason> CheckText(const FrameMeasurements& m, const FilterConfig& config);
std::optional<DropReason> CheckSize(const FrameMeasurements& m, const FilterConfig& config);

// Every enabled check, in the order above; every failing reason, so a frame
// that is both dark and blurred says so. Empty when the frame passes.
std::vector<DropReason> Evaluate(const FrameMeasurements& m, const FilterConfig& config);

// MeasureFrame then Evaluate.
absl::StatusOr<std::vector<DropReason>> RunFilters(const cv::Mat& image,
                                                   const FilterConfig& config = {});

}  // namespace dreamshot::dataset::filters

#endif  // DREAMSHOT_DATASET_FILTERS_FRAME_FILTERS_H_

#include "dataset/filters/frame_filters.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "dataset/filters/image_convert.h"

namespace dreamshot::dataset::filters {
namespace {

// Text heuristic constants, at kAnalysisWidth (a 1080p subtitle line,
// ~45 px tall, is ~12 px here). Tuned on the OpenCV sample photos with and
// without putText subtitles (frame_filters_test.cc).
// Strokes narrower than the 7×7 opening survive in the top-hat (bright
// strokes) or black-hat (dark strokes); broad bright areas (sky, walls) do
// not. 128 of 255 keeps outlined subtitle strokes and drops most texture.
constexpr int kStrokeKernel = 7;
constexpr int kStrokeThreshold = 128;
// Letters of a word sit 1–3 px apart; a 9×1 closing joins them into a line
// blob without joining lines above one another.
constexpr int kJoinWidth = 9;
constexpr int kMinGlyphHeight = 6;
constexpr int kMaxGlyphHeight = 40;
constexpr double kMinTextAspect = 2.0;
constexpr double kMinStrokeFill = 0.3;

// Grey at kAnalysisWidth columns, aspect kept (at least one row): an area
// average when shrinking (no aliasing that would read as detail), linear
// when enlarging, as an upscaler would. Halving down to the target (ratio 1)
// is fastest; the statistics measured do not care about the exact grid.
cv::Mat AnalysisImage(const cv::Mat& grey) {
  const int rows = std::max(1, static_cast<int>(std::lround(static_cast<double>(grey.rows) *
                                                            kAnalysisWidth / grey.cols)));
  return AreaResize(grey, cv::Size(kAnalysisWidth, rows), /*min_final_ratio=*/1);
}

double LaplacianVariance(const cv::Mat& grey) {
  cv::Mat lap;
  cv::Laplacian(grey, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}

// "12.3" for values, "60" for round thresholds.
std::string Num(double v) { return absl::StrFormat("%.1f", v); }
std::string Threshold(double v) { return absl::StrFormat("%g", v); }

}  // namespace

double MeasureTextFraction(const cv::Mat& grey) {
  const cv::Mat region = grey.rowRange(grey.rows * 2 / 3, grey.rows);
  if (region.rows < kMinGlyphHeight) return 0;
  const cv::Mat square =
      cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kStrokeKernel, kStrokeKernel));
  cv::Mat bright, dark, strokes, joined;
  cv::morphologyEx(region, bright, cv::MORPH_TOPHAT, square);
  cv::morphologyEx(region, dark, cv::MORPH_BLACKHAT, square);
  cv::threshold(cv::max(bright, dark), strokes, kStrokeThreshold - 1, 255, cv::THRESH_BINARY);
  cv::morphologyEx(strokes, joined, cv::MORPH_CLOSE,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(kJoinWidth, 1)));
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(joined, labels, stats, centroids, 8, CV_32S);
  double text_area = 0;
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH);
    const int h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    if (h < kMinGlyphHeight || h > kMaxGlyphHeight || w < kMinTextAspect * h) continue;
    const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP), w, h);
    const double fill = cv::countNonZero(strokes(box)) / static_cast<double>(box.area());
    if (fill >= kMinStrokeFill) text_area += box.area();
  }
  return text_area / static_cast<double>(region.total());
}

absl::StatusOr<FrameMeasurements> MeasureFrame(const cv::Mat& image, const FilterConfig& config) {
  ASSIGN_OR_RETURN(const cv::Mat grey, ToGrey8(image));
  FrameMeasurements m;
  m.width = image.cols;
  m.height = image.rows;
  const bool need_stats = config.check_black || config.check_contrast;
  if (!need_stats && !config.check_blur && !config.check_text) return m;
  try {
    const cv::Mat analysis = AnalysisImage(grey);
    if (need_stats) {
      cv::Scalar mean, stddev;
      cv::meanStdDev(analysis, mean, stddev);
      m.mean_luma = mean[0];
      m.luma_std = stddev[0];
    }
    if (config.check_blur) m.laplacian_variance = LaplacianVariance(analysis);
    if (config.check_text) m.text_fraction = MeasureTextFraction(analysis);
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("measuring frame ", DescribeImage(image)));
  }
  return m;
}

std::optional<DropReason> CheckBlack(const FrameMeasurements& m, const FilterConfig& config) {
  if (!config.check_black) return std::nullopt;
  if (m.mean_luma < config.black_max_mean_luma) {
    return DropReason{kBlackFilter, absl::StrCat("mean luma ", Num(m.mean_luma), " < ",
                                                 Threshold(config.black_max_mean_luma))};
  }
  if (m.luma_std < config.blank_max_luma_std) {
    return DropReason{kBlackFilter, absl::StrCat("blank: luma std dev ", Num(m.luma_std), " < ",
                                                 Threshold(config.blank_max_luma_std))};
  }
  return std::nullopt;
}

std::optional<DropReason> CheckContrast(const FrameMeasurements& m, const FilterConfig& config) {
  if (!config.check_contrast || m.luma_std >= config.min_luma_std) return std::nullopt;
  return DropReason{kLowContrastFilter, absl::StrCat("luma std dev ", Num(m.luma_std), " < ",
                                                     Threshold(config.min_luma_std))};
}

std::optional<DropReason> CheckBlur(const FrameMeasurements& m, const FilterConfig& config) {
  if (!config.check_blur || m.laplacian_variance >= config.min_laplacian_variance) {
    return std::nullopt;
  }
  return DropReason{kBlurFilter, absl::StrCat("variance of Laplacian ", Num(m.laplacian_variance),
                                              " < ", Threshold(config.min_laplacian_variance))};
}

std::optional<DropReason> CheckText(const FrameMeasurements& m, const FilterConfig& config) {
  if (!config.check_text || m.text_fraction <= config.max_text_fraction) return std::nullopt;
  return DropReason{kTextFilter,
                    absl::StrCat("text-like area ", absl::StrFormat("%.3f", m.text_fraction),
                                 " of lower third > ", Threshold(config.max_text_fraction))};
}

std::optional<DropReason> CheckSize(const FrameMeasurements& m, const FilterConfig& config) {
  const int side = std::min(m.width, m.height);
  if (!config.check_size || side >= config.min_side) return std::nullopt;
  return DropReason{kTooSmallFilter, absl::StrCat("shorter side ", side, " px (", m.width, "x",
                                                  m.height, ") < ", config.min_side)};
}

std::vector<DropReason> Evaluate(const FrameMeasurements& m, const FilterConfig& config) {
  std::vector<DropReason> reasons;
  for (auto check : {CheckBlack, CheckContrast, CheckBlur, CheckText, CheckSize}) {
    if (std::optional<DropReason> reason = check(m, config)) reasons.push_back(*std::move(reason));
  }
  return reasons;
}

absl::StatusOr<std::vector<DropReason>> RunFilters(const cv::Mat& image,
                                                   const FilterConfig& config) {
  ASSIGN_OR_RETURN(const FrameMeasurements m, MeasureFrame(image, config));
  return Evaluate(m, config);
}

}  // namespace dreamshot::dataset::filters

// Per-frame measurements the shot detectors decide on: how much an analysis
// frame differs from the previous analysed one (PySceneDetect's content
// score) and how bright its picture is (for fades).
//
// Letterbox and pillarbox bars are left out of both: a bar adds nothing to a
// difference (it dilutes a 2.39:1 film's cut scores by a quarter) and
// darkens the mean (a dark letterboxed scene would read as a fade to black).
#ifndef DREAMSHOT_DATASET_SHOTS_FRAME_METRICS_H_
#define DREAMSHOT_DATASET_SHOTS_FRAME_METRICS_H_

#include <array>
#include <cstdint>
#include <deque>

#include <opencv2/core.hpp>

#include "dataset/types.h"

namespace dreamshot::dataset::shots {

struct ScoreOptions {
  // Weights of the mean absolute differences of the HSV channels (OpenCV's
  // 8-bit HSV: hue 0-179, not wrapped, as PySceneDetect) and of dilated
  // Canny edges of V (0/255). The score is the weighted mean, so thresholds
  // stay on a 0-255 scale. PySceneDetect's defaults: 1, 1, 1, 0.
  double weight_hue = 1, weight_sat = 1, weight_value = 1, weight_edges = 0;
  // Leave out border rows/columns darker than bar_luma on average and
  // nowhere brighter than 3 * bar_luma, up to a quarter of the frame per side.
  bool ignore_bars = true;
  double bar_luma = 12;
};

// How many earlier frames (2, 3, ... analysed steps back) each frame is also
// compared with, for telling flashes from cuts.
inline constexpr int kEarlierFrames = 2;

struct FrameMetrics {
  int64_t frame = 0;    // source frame number
  double time_s = 0;
  // Whether the deltas compare with a previous frame (false for the first;
  // the shot detector also clears it for pairs that touch a black frame).
  bool scored = false;
  double content = 0;   // weighted mean of the deltas below
  double delta_hue = 0, delta_sat = 0, delta_value = 0, delta_edges = 0;
  // The content score against the frame k + 2 analysed steps back (-1 when
  // there is none): a flash or a glitch is a frame or two unlike the frames
  // on both sides, which are alike.
  std::array<double, kEarlierFrames> content_to_earlier = {-1, -1};
  // Set by the shot detector for frames inside a flash (see FlashOptions).
  bool flash = false;
  double luma = 0;      // mean luma (BT.601, 0-255) of the picture area
  Box picture;          // picture area in analysis pixels (bars left out)
};

// Scores consecutive analysis frames (BGR, all of one size). Keeps the
// previous frame's HSV and edges; O(pixels) per frame.
class FrameScorer {
 public:
  explicit FrameScorer(const ScoreOptions& options = {});
  FrameMetrics Score(int64_t frame, double time_s, const cv::Mat& bgr);

 private:
  struct Past {
    cv::Mat hsv, edges;
    cv::Rect picture;
  };
  // Weighted mean of the channel differences over both pictures; fills the
  // deltas when `m` is given.
  double Compare(const Past& a, const Past& b, FrameMetrics* m) const;

  ScoreOptions options_;
  std::deque<Past> past_;  // the previous frame first, then older ones
};

// The picture area of a grey frame: the frame less border rows/columns whose
// mean is below `bar_luma` and maximum below 3 * bar_luma, at most a quarter
// of each dimension per side (a black frame keeps its middle half; a 2.76:1
// film in 16:9 has bars of 18%).
cv::Rect PictureArea(const cv::Mat& grey, double bar_luma);

}  // namespace dreamshot::dataset::shots

#endif  // DREAMSHOT_DATASET_SHOTS_FRAME_METRICS_H_

// One keyframe per shot: the sharpest of a few frames from the middle of the
// shot (its ends hold transitions, fades and motion blur of cuts), found in a
// single pass over the video that serves all shots in order. No seeking:
// FFmpeg seeks land on keyframes of the codec and some containers misreport
// where, so frame numbers would need checking; reading straight through is
// exact, and skipped frames are only grabbed (or, for MJPEG, not decoded).
#ifndef DREAMSHOT_DATASET_SHOTS_KEYFRAME_H_
#define DREAMSHOT_DATASET_SHOTS_KEYFRAME_H_

#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataset/types.h"

namespace dreamshot::dataset::shots {

struct KeyframeOptions {
  // Candidates are spread evenly over this central fraction of the shot.
  double central_fraction = 0.5;
  int max_candidates = 9;
  // Sharpness is compared on grey copies with this longest side, so that
  // compression noise at full resolution does not pass for detail.
  int analysis_max_side = 256;
  // Candidates unlike the rest of the shot are passed over (ChooseKeyframe).
  // 0 turns this off.
  double outlier_ratio = 2.0;
  double outlier_min_luma = 6;
};

// A candidate frame while its shot's keyframe is being chosen.
struct KeyframeCandidate {
  int64_t frame = 0;
  double time_s = 0;
  double sharpness = 0;
  cv::Mat thumbnail;  // Thumbnail() of the analysis frame
  cv::Mat image;      // full resolution
};

inline constexpr int kThumbnailWidth = 32, kThumbnailHeight = 18;
// A grey 32x18 copy (area average) for comparing frames' content.
cv::Mat Thumbnail(const cv::Mat& image);

// The sharpest candidate that looks like the shot. A decoding glitch (a
// smeared band of a damaged stream, a torn frame) or a flash adds edges, so
// it would win on sharpness alone; it is also unlike the candidates next to
// it. A candidate whose distance to its nearer neighbour in time (mean
// absolute grey difference of thumbnails) exceeds outlier_ratio x the
// median of those distances over the shot, and that median plus
// outlier_min_luma grey levels, is passed over. With fewer than 3
// candidates, or all passed over, plain sharpness decides. A glitch held
// over two neighbouring candidates, or one that leaves the picture's layout
// alone (speckles), is not caught. Returns an index into `candidates`
// (non-empty).
size_t ChooseKeyframe(const std::vector<KeyframeCandidate>& candidates, const KeyframeOptions& options);

struct Keyframe {
  int64_t shot_index = 0;  // Shot::index
  int64_t frame = 0;       // source frame number
  double time_s = 0;
  double sharpness = 0;  // variance of the Laplacian at analysis size
  cv::Mat image;         // BGR, full resolution
};

// A shot's candidate frames, ascending, at least one (the middle frame).
std::vector<int64_t> KeyframeCandidates(const Shot& shot, const KeyframeOptions& options = {});

// Variance of the Laplacian of the grey image (BGR or grey input).
double Sharpness(const cv::Mat& image);

// Reads `video` once and calls `sink` with each shot's keyframe as soon as
// the shot's candidates are past (so memory holds one full frame per shot in
// progress, not per film). `shots` must be ordered and disjoint
// (INVALID_ARGUMENT naming the shot otherwise). A shot whose candidates the
// video does not reach (it ended early) gets no keyframe and a warning. An
// error from `sink` stops the pass and is returned.
absl::Status ForEachKeyframe(const std::string& video, const std::vector<Shot>& shots, const KeyframeOptions& options,
                             const std::function<absl::Status(Keyframe)>& sink,
                             std::vector<std::string>* warnings = nullptr);

// ForEachKeyframe, collected (one full-resolution frame per shot in memory).
absl::StatusOr<std::vector<Keyframe>> ExtractKeyframes(const std::string& video, const std::vector<Shot>& shots,
                                                       const KeyframeOptions& options = {},
                                                       std::vector<std::string>* warnings = nullptr);

}  // namespace dreamshot::dataset::shots

#endif  // DREAMSHOT_DATASET_SHOTS_KEYFRAME_H_

// One source through the whole per-shot pipeline: shot detection, the
// keyframe of every shot, and the keyframe analysis (letterbox, filters,
// pHash, shot-scale label, training crop). The pool builder and `dreamshot
// dataset shots` both run this; only what they keep differs.
//
// A video is read twice: once at analysis size to find the cuts, once to
// pick each shot's keyframe at full resolution (keyframe.h says why there is
// no seeking). Shots come out in order, each as soon as its keyframe is
// analysed, so a film's training images never sit in memory together.
#ifndef DREAMSHOT_DATASET_VIDEO_ANALYSIS_H_
#define DREAMSHOT_DATASET_VIDEO_ANALYSIS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataset/keyframe_analysis.h"
#include "dataset/labels/people_detector.h"
#include "dataset/shots/keyframe.h"
#include "dataset/shots/shot_detector.h"
#include "dataset/types.h"

namespace dreamshot::dataset {

struct VideoAnalysisOptions {
  shots::ShotDetectionOptions detection;
  shots::KeyframeOptions keyframes;
  KeyframeAnalysisConfig analysis;
  // false: cuts only, no keyframe pass (AnalyzedShot::has_keyframe false).
  bool analyze_keyframes = true;
};

// A shot with its keyframe's analysis. A shot the keyframe pass could not
// serve (the video broke off before its middle) or whose analysis failed is
// dropped with a reason saying so.
struct AnalyzedShot {
  Shot shot;
  bool has_keyframe = false;
  int64_t keyframe = 0;  // source frame number
  double keyframe_s = 0;
  double sharpness = 0;       // of the keyframe, see shots::Sharpness
  KeyframeAnalysis analysis;  // drops, hash, label, crop, training image (when kept)

  bool kept() const { return has_keyframe && analysis.drops.empty(); }
};

inline constexpr char kNoKeyframeDrop[] = "no_keyframe";
inline constexpr char kAnalysisErrorDrop[] = "analysis_error";

struct VideoAnalysisReport {
  shots::VideoInfo info;
  int64_t frames_read = 0;
  int64_t frames_analysed = 0;
  int64_t shots = 0;
  std::vector<std::string> warnings;
  double detect_seconds = 0, keyframe_seconds = 0;
};

struct VideoAnalysisProgress {
  enum class Stage { kDetecting, kKeyframes };
  Stage stage = Stage::kDetecting;
  int64_t frame = 0;        // detecting: the last analysed source frame
  double time_s = 0;        // ... and its time
  int64_t shots_done = 0;   // keyframes: shots passed to the sink so far
  int64_t shots_total = 0;  // keyframes: shots of the video
};
// Returning false stops the analysis, which then fails CANCELLED.
using VideoAnalysisProgressFn = std::function<bool(const VideoAnalysisProgress&)>;

// Runs the pipeline over `video` (a file or a folder of stills played as a
// sequence) and calls `sink` once per shot, in shot order. `people` is
// needed when options.analyze_keyframes is set. Fails as shots::DetectShots
// does for an unusable source; an error from `sink` stops and is returned.
// `report` (optional) is filled as far as the analysis got.
absl::Status AnalyzeVideo(const std::string& video, const VideoAnalysisOptions& options, labels::PeopleDetector* people,
                          const std::function<absl::Status(AnalyzedShot)>& sink, VideoAnalysisReport* report = nullptr,
                          const VideoAnalysisProgressFn& progress = nullptr);

// A still image as a one-shot source (index 0, frames 0..0, detector
// "still"). Reads any depth and channel layout OpenCV loads; 16-bit images
// are scaled to 8 bits and grey+alpha loses its alpha, each with a warning.
// INVALID_ARGUMENT naming the file and the reason for an empty, unreadable
// or unsupported image.
absl::StatusOr<AnalyzedShot> AnalyzeStill(const std::string& path, const KeyframeAnalysisConfig& config,
                                          labels::PeopleDetector& people, std::vector<std::string>* warnings);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_VIDEO_ANALYSIS_H_

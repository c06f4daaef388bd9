// The dataset builder's shared vocabulary: where a frame came from, what a
// shot is, why a frame was dropped, and shot-scale labels. Light header (no
// OpenCV), so the store and services can use it.
#ifndef DREAMSHOT_DATASET_TYPES_H_
#define DREAMSHOT_DATASET_TYPES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dreamshot::dataset {

// One detected shot of a source video: frames [start_frame, end_frame]
// (inclusive, in source frame numbers) and their times.
struct Shot {
  std::string source;  // the video's path
  int64_t index = 0;   // shot number within the source, from 0
  int64_t start_frame = 0, end_frame = 0;
  double start_s = 0, end_s = 0;  // presentation times of start_frame and end_frame
  // What found the cut that opened this shot, and with which settings:
  // e.g. detector "content", params {"threshold": 27, "min_shot_frames": 15}.
  // The first shot of a source starts at frame 0 ("start").
  std::string detector;
  std::map<std::string, double> detector_params;
  // Set when the shot starts from or ends in a fade (to/from black).
  bool fade_in = false, fade_out = false;
};

// Why a frame or shot left the pool: the filter's name and a measured value
// that failed its threshold, e.g. {"blur", "variance of Laplacian 12.3 < 60"}.
struct DropReason {
  std::string filter;
  std::string detail;
};

// A rectangle in source pixels (crops, detections).
struct Box {
  int x = 0, y = 0, width = 0, height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
};

// The three scales the thesis trains on.
enum class ShotScale { kUnknown, kClose, kMedium, kLong };
// MovieShots' five: extreme close-up, close-up, medium, full, long shot.
enum class FineShotScale { kUnknown, kExtremeClose, kClose, kMedium, kFull, kLong };

// "close", "medium", "long", "unknown"; the inverse returns nullopt for
// anything else.
const char* ShotScaleName(ShotScale scale);
std::optional<ShotScale> ParseShotScale(const std::string& name);
// "ECS", "CS", "MS", "FS", "LS", "unknown".
const char* FineShotScaleName(FineShotScale scale);
std::optional<FineShotScale> ParseFineShotScale(const std::string& name);
// The five-to-three mapping (docs/dataset.md): ECS, CS → close; MS → medium;
// FS, LS → long.
ShotScale CoarseScale(FineShotScale fine);

// A label is an estimate, never ground truth (people agree on shot scale
// only moderately: CineScale reports Fleiss' κ 0.64).
struct ScaleLabel {
  ShotScale scale = ShotScale::kUnknown;
  FineShotScale fine = FineShotScale::kUnknown;
  double confidence = 0;   // [0, 1]
  std::string method;      // "faces", "people", "imported:<file>", ...
  std::string evidence;    // e.g. "face 0.42 of frame height"
};

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_TYPES_H_

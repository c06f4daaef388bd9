// Types of the dataset pool store (experiments/dataset_store.h).
#ifndef DREAMSHOT_EXPERIMENTS_DATASET_TYPES_H_
#define DREAMSHOT_EXPERIMENTS_DATASET_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "experiments/types.h"  // Artifact: an item's image is an artifact of its run

namespace dreamshot::experiments {

// A shot (or still image) of a dataset-building run's pool, with where it
// came from, whether it was kept, and its labels. Scales are stored as the
// dataset builder's names ("close", "CS", …); JSON fields are opaque here.
struct DatasetItem {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string source;      // video or image path
  int64_t shot_index = 0;  // shot number within the source (0 for a still)
  int64_t start_frame = 0, end_frame = 0;
  double start_s = 0, end_s = 0;
  int64_t keyframe = 0;           // source frame number of the keyframe
  std::string detector_json;      // {"name": ..., params}
  bool kept = true;
  std::string drop_reasons_json = "[]";  // [{"filter": ..., "detail": ...}]
  std::optional<uint64_t> phash;
  int crop_x = 0, crop_y = 0, crop_width = 0, crop_height = 0;  // in source pixels
  std::optional<int64_t> image_artifact;  // the training-resolution PNG
  std::string scale = "unknown", fine_scale = "unknown";
  double scale_confidence = 0;
  std::string scale_method, scale_evidence;
  std::string caption, caption_source;
  int64_t created_ms = 0;
};

// What happened to one source file of a dataset build: "done" with its shot
// count, or "failed" with the reason. A resumed build skips both.
struct DatasetSource {
  std::string source;
  std::string status;  // "done" | "failed"
  std::string detail;
  int64_t shots = 0, frames = 0;
  int64_t updated_ms = 0;
};

struct DatasetLabelUpdate {
  int64_t item_id = 0;
  std::string scale, fine_scale;
  double confidence = 0;
  std::string method, evidence;
};

struct DatasetCaptionUpdate {
  int64_t item_id = 0;
  std::string caption, caption_source;
};

// The training image of items[item] of a CommitDatasetSource call, recorded
// as an artifact of the run in the same transaction as the items.
struct DatasetItemImage {
  size_t item = 0;
  Artifact artifact;  // run_id, kind, path, sha256, size_bytes, uri; id ignored
};

// The dedup pass's verdict on one item: kept, or dropped with its reasons
// (a JSON array, [{"filter": ..., "detail": ...}]).
struct DatasetDropUpdate {
  int64_t item_id = 0;
  bool kept = true;
  std::string drop_reasons_json = "[]";
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_DATASET_TYPES_H_

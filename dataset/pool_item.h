// An analysed shot as a row of the pool (experiments::DatasetItem) and its
// training image as PNG bytes, plus the JSON the store keeps drop reasons
// and detector settings in.
#ifndef DREAMSHOT_DATASET_POOL_ITEM_H_
#define DREAMSHOT_DATASET_POOL_ITEM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataset/types.h"
#include "dataset/video_analysis.h"
#include "experiments/dataset_types.h"

namespace dreamshot::dataset {

// [{"filter": ..., "detail": ...}, ...]
std::string DropReasonsJson(const std::vector<DropReason>& drops);
// The inverse; INVALID_ARGUMENT for text that is not such an array.
absl::StatusOr<std::vector<DropReason>> ParseDropReasons(const std::string& json);

// The item (id 0, no image yet). Scales and drops as the store keeps them.
experiments::DatasetItem ToDatasetItem(const AnalyzedShot& shot);

// The training image as an RGB PNG whose "dreamshot" text chunk holds its
// provenance (source, shot, keyframe frame, crop box in source pixels), so
// a file copied out of the pool still says where it came from.
// FAILED_PRECONDITION when the shot has no training image.
absl::StatusOr<std::string> TrainingPng(const AnalyzedShot& shot);

// Where the pool keeps a shot's image: "<prefix>/<file stem>-<8 hex of the
// source path's SHA-256>/shot-0007.png": readable, and unique even for two
// films with one name in different folders.
std::string PoolImagePath(const std::string& prefix, const std::string& source, int64_t shot_index);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_POOL_ITEM_H_

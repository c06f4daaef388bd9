// A pool's manifest as files other tools read: JSONL (one object per item,
// every field, with the detector settings and drop reasons as nested JSON)
// and CSV (one row per item, flat columns). Both carry the provenance of
// every item: source file, shot, frames, times, keyframe, crop box, label
// with its method and confidence, caption and its source.
#ifndef DREAMSHOT_DATASET_MANIFEST_H_
#define DREAMSHOT_DATASET_MANIFEST_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/dataset_types.h"

namespace dreamshot::dataset {

// `splits`: item id → the names of the splits it is in (may be empty).
absl::StatusOr<std::string> ManifestJsonl(const std::vector<experiments::DatasetItem>& items,
                                          const std::map<int64_t, std::vector<std::string>>& splits = {});
std::string ManifestCsv(const std::vector<experiments::DatasetItem>& items,
                        const std::map<int64_t, std::vector<std::string>>& splits = {});

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_MANIFEST_H_

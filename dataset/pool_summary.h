// What a pool holds, for `dreamshot dataset report` and the end of a build:
// sources done and failed, items kept and why the others were dropped, the
// shot-scale label distribution of the kept items (estimates, with their
// mean confidence), captions and splits.
#ifndef DREAMSHOT_DATASET_POOL_SUMMARY_H_
#define DREAMSHOT_DATASET_POOL_SUMMARY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataset/labels/label_distribution.h"
#include "experiments/dataset_store.h"

namespace dreamshot::dataset {

struct PoolSummary {
  int64_t sources_done = 0, sources_failed = 0;
  std::vector<experiments::DatasetSource> failed;  // with their reasons
  int64_t items = 0, kept = 0;
  int64_t captioned = 0;  // kept items with a caption
  // Filter → dropped items naming it (an item may name several).
  std::map<std::string, int64_t> drops;
  labels::LabelDistribution labels;  // of the kept items
  std::map<std::string, int64_t> splits;
};

absl::StatusOr<PoolSummary> SummarizePool(experiments::DatasetStore& store, int64_t run_id);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_POOL_SUMMARY_H_

// The pool's near-duplicate pass: among the items no filter dropped, the
// first of each group of near-identical keyframes (pHash within a Hamming
// distance) in (source, shot) order stays and the rest are dropped as
// "duplicate". Run over the whole pool after every build, so the outcome
// depends on the pool, not on which thread finished which film first, and
// a resumed or extended build re-decides earlier duplicate marks.
#ifndef DREAMSHOT_DATASET_POOL_DEDUP_H_
#define DREAMSHOT_DATASET_POOL_DEDUP_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "experiments/dataset_store.h"

namespace dreamshot::dataset {

inline constexpr char kDuplicateDrop[] = "duplicate";

struct DedupOutcome {
  int64_t candidates = 0;  // items with a hash and no other drop reason
  int64_t duplicates = 0;  // of them, dropped as near-duplicates
  int64_t changed = 0;     // items whose kept state or reasons this pass changed
};

// max_distance < 0 turns dedup off (and clears earlier duplicate marks).
absl::StatusOr<DedupOutcome> MarkDuplicates(experiments::DatasetStore& store, int64_t run_id, int max_distance);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_POOL_DEDUP_H_

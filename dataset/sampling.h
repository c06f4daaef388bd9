// Stratified, seeded draws from a labelled pool: per shot scale a training
// set of N items, and an evaluation set split evenly across the scales,
// disjoint from every training set. The draw depends only on the seed and
// the pool (items are ordered by id before shuffling, and the shuffle is our
// own Fisher–Yates over std::mt19937_64, whose output the C++ standard fixes),
// so the same pool and seed give the same splits on every machine.
#ifndef DREAMSHOT_DATASET_SAMPLING_H_
#define DREAMSHOT_DATASET_SAMPLING_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataset/types.h"

namespace dreamshot::dataset {

struct PoolEntry {
  int64_t id = 0;
  ShotScale scale = ShotScale::kUnknown;
  double confidence = 0;
};

struct SplitOptions {
  int64_t train_per_scale = 10;
  int64_t eval_total = 1800;  // a multiple of the number of scales
  uint64_t seed = 0;
  double min_confidence = 0;  // labels below it are not drawn
  std::vector<ShotScale> scales = {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong};
};

// Split name ("train/close", …, "eval") → item ids in draw order. The eval
// split lists its scales interleaved (close, medium, long, close, …).
// FAILED_PRECONDITION naming the scale when the pool has too few items.
absl::StatusOr<std::map<std::string, std::vector<int64_t>>> DrawSplits(const std::vector<PoolEntry>& pool,
                                                                       const SplitOptions& options);

// Fisher–Yates with unbiased bounded draws; exposed for tests.
void SeededShuffle(std::vector<int64_t>& ids, uint64_t seed);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_SAMPLING_H_

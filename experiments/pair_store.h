// A/B image pairs: which two artifacts of a run show the same prompt and seed
// from two systems (the survey's material).
#ifndef DREAMSHOT_EXPERIMENTS_PAIR_STORE_H_
#define DREAMSHOT_EXPERIMENTS_PAIR_STORE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/pair_types.h"

namespace dreamshot::experiments {

class Database;

class PairStore {
 public:
  // `db` outlives the PairStore (the ExperimentStore's, see store.h).
  explicit PairStore(Database* db) : db_(db) {}

  // Both artifacts must belong to the pair's run (checked in the insert's
  // transaction); labels must differ.
  absl::StatusOr<ImagePair> AddImagePair(const ImagePair& pair);
  // In the order they were added.
  absl::StatusOr<std::vector<ImagePair>> ListImagePairs(int64_t run_id);
  // NOT_FOUND naming the id.
  absl::StatusOr<ImagePair> GetImagePair(int64_t id);

 private:
  Database* db_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_PAIR_STORE_H_

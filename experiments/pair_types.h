// Types of the image pair store (experiments/pair_store.h).
#ifndef DREAMSHOT_EXPERIMENTS_PAIR_TYPES_H_
#define DREAMSHOT_EXPERIMENTS_PAIR_TYPES_H_

#include <cstdint>
#include <string>

namespace dreamshot::experiments {

// Two images of one prompt and seed from two systems (label_a, label_b),
// both artifacts of run_id.
struct ImagePair {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string prompt;
  std::string shot_type;  // "close", "medium", "long" or ""
  uint64_t seed = 0;
  std::string label_a, label_b;
  int64_t artifact_a = 0, artifact_b = 0;
  int64_t created_ms = 0;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_PAIR_TYPES_H_

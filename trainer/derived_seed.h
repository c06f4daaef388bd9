// Seeds for independent random streams drawn from one run seed (a class
// image's noise, an image's crop and flip): splitmix64 of the run seed and
// the stream's number, so neighbouring run seeds do not share streams the
// way seed + index would (run seed 1's image 0 would be run seed 0's image
// 1).
#ifndef DREAMSHOT_TRAINER_DERIVED_SEED_H_
#define DREAMSHOT_TRAINER_DERIVED_SEED_H_

#include <cstdint>

namespace dreamshot::trainer {

inline uint64_t DerivedSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_DERIVED_SEED_H_

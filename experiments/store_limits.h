// Size limits every concept store checks its keys and values against (the
// run store's tags and params, artifact kinds, split and survey names).
#ifndef DREAMSHOT_EXPERIMENTS_STORE_LIMITS_H_
#define DREAMSHOT_EXPERIMENTS_STORE_LIMITS_H_

#include <cstddef>

namespace dreamshot::experiments {

inline constexpr size_t kMaxKeyLength = 250;
inline constexpr size_t kMaxValueLength = 6000;

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_STORE_LIMITS_H_

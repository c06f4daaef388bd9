// Wall-clock time as stored everywhere in DreamShot: ms since the Unix epoch.
#ifndef DREAMSHOT_CORE_TIME_H_
#define DREAMSHOT_CORE_TIME_H_

#include <chrono>
#include <cstdint>

namespace dreamshot::core {

inline int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_TIME_H_

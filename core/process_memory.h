// The process's peak resident set (what `time -v` calls "maximum resident
// set size"): what a training or generation run reports as its memory.
#ifndef DREAMSHOT_CORE_PROCESS_MEMORY_H_
#define DREAMSHOT_CORE_PROCESS_MEMORY_H_

#include <cstdint>

namespace dreamshot::core {

// Bytes; the high-water mark since the process started.
int64_t PeakRssBytes();

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PROCESS_MEMORY_H_

// CPU set-up of a binary that runs networks, in one call.
//
// Only main() calls InitCpu, once, and every main() that runs networks
// calls it instead of the three steps it is made of: it may re-execute the
// process, and it sets process-wide state (LibTorch's thread count, its CPU
// allocator) that no library, request or job may change under the others.
// The steps, in the order they need:
//  1. OpenBLAS core type (core/blas_core_type.h): may re-execute the
//     process, so it comes first: nothing before it survives the exec.
//  2. LibTorch's intra-op threads (core::InitCpuThreads): before any
//     parallel work.
//  3. The caching CPU allocator (core/caching_cpu_allocator.h): before the
//     tensors it should serve are allocated (earlier ones keep malloc).
// Call it after parsing the command line (a usage error then exits before
// any re-exec) and before anything that must not happen twice (output,
// files written, threads that must survive).
#ifndef DREAMSHOT_CORE_CPU_INIT_H_
#define DREAMSHOT_CORE_CPU_INIT_H_

#include <cstdint>
#include <string>

namespace dreamshot::core {

struct CpuOptions {
  // LibTorch's intra-op threads; ≤ 0: $OMP_NUM_THREADS if set, else every
  // core this process may use.
  int threads = 0;
  // The allocator's cache bound and default headroom; ≤ 0:
  // $DREAMSHOT_CPU_CACHE_MB if set, else 512 MiB.
  int64_t max_cached_bytes = 0;
};

// What InitCpu set.
struct CpuSettings {
  std::string blas_core_type;  // OPENBLAS_CORETYPE in effect; "" = OpenBLAS's own choice
  int threads = 0;             // intra-op threads in effect
  int64_t max_cached_bytes = 0;
};

// `argv` is main's, for the re-exec. Returns in the process that goes on
// (the re-executed one when a re-exec happened).
CpuSettings InitCpu(char** argv, const CpuOptions& options = {});

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_CPU_INIT_H_

// LibTorch CPU allocator that keeps freed large blocks for reuse.
//
// LibTorch's default CPU allocator hands large tensors to malloc, which maps
// fresh pages for each one and unmaps them on free. Inference allocates the
// same large shapes over and over (a 512² VAE decode makes ~100 tensors of
// 67–134 MB, oneDNN's reorder buffers included), so most of its system time
// went to page faults on memory that had just been returned. This allocator
// keeps freed blocks of ≥ 1 MiB, keyed by size, and serves a request from a
// cached block of the same size class (at most 1/8 larger); the cache is
// bounded and can be emptied between pipeline stages.
#ifndef DREAMSHOT_CORE_CACHING_CPU_ALLOCATOR_H_
#define DREAMSHOT_CORE_CACHING_CPU_ALLOCATOR_H_

#include <cstdint>

namespace dreamshot::core {

struct CpuCacheStats {
  int64_t cached_bytes = 0;     // held for reuse, not in any tensor
  int64_t allocated_bytes = 0;  // in live blocks of ≥ 1 MiB
  int64_t peak_allocated_bytes = 0;  // since start or ResetPeakCpuAllocated()
  int64_t peak_held_bytes = 0;       // max of allocated + cached, same period
  int64_t hits = 0;             // requests served from the cache
  int64_t misses = 0;           // requests that went to the system
};

// Makes the caching allocator LibTorch's CPU allocator (idempotent; later
// calls only change the bound). Tensors allocated before keep their own
// deleters. `max_cached_bytes` ≤ 0: $DREAMSHOT_CPU_CACHE_MB if set, else
// 512 MiB.
void InstallCachingCpuAllocator(int64_t max_cached_bytes = 0);

// Frees every cached block (e.g. between the denoising loop and the VAE).
void ReleaseCachedCpuMemory();

CpuCacheStats GetCpuCacheStats();

// Starts a new peak-measurement period (e.g. per pipeline stage).
void ResetPeakCpuAllocated();

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_CACHING_CPU_ALLOCATOR_H_

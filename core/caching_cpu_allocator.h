// LibTorch CPU allocator that keeps the pages of freed large blocks for reuse.
//
// LibTorch's default CPU allocator hands large tensors to malloc, which maps
// fresh pages for each one and unmaps them on free (or, under glibc's dynamic
// mmap threshold of up to 32 MiB, keeps them resident in its heap). Inference
// allocates large tensors of many shapes over and over (a 512² VAE decode
// makes ~100 of 67–134 MB, oneDNN's reorder buffers included), so most of its
// system time went to page faults on memory that had just been returned.
// Blocks of ≥ 1 MiB come from a PageArena instead: freed pages serve later
// blocks of any size (ranges are split and merged), and fresh pages are
// mapped only while the footprint (live + cached) stays within the most bytes
// ever live at once plus a headroom. The default headroom lets the UNet loop
// keep what it needs; with a headroom of 0 the footprint peaks exactly where
// live tensors peak, which a pipeline sets around its one-shot VAE decode
// (ScopedCpuCacheHeadroom). Small blocks still go to malloc.
//
// The cache and the counters are process-wide; the headroom is per thread.
// The server runs several generation jobs at once, each on its own thread,
// so a job's ScopedCpuCacheHeadroom must not change how another job's
// blocks are placed: a block's allocation reads the headroom of the thread
// that allocates it. A VAE decode allocates all its large blocks on the
// calling thread (LibTorch's 2 intra-op threads here allocated none of the
// 1,368 blocks of a 512² decode), so the scope covers the whole decode.
// Binaries install the allocator through core::InitCpu (core/cpu_init.h).
#ifndef DREAMSHOT_CORE_CACHING_CPU_ALLOCATOR_H_
#define DREAMSHOT_CORE_CACHING_CPU_ALLOCATOR_H_

#include <cstdint>

namespace c10 {
struct Allocator;
}  // namespace c10

namespace dreamshot::core {

struct CpuCacheStats {
  int64_t cached_bytes = 0;     // held for reuse, not in any tensor
  int64_t allocated_bytes = 0;  // in live blocks of ≥ 1 MiB
  int64_t peak_allocated_bytes = 0;  // since start or ResetPeakCpuAllocated()
  int64_t peak_held_bytes = 0;       // max of allocated + cached, same period
  int64_t live_high_water_bytes = 0;  // max of allocated since start (not reset)
  int64_t hits = 0;             // blocks served from cached pages
  int64_t misses = 0;           // blocks that needed fresh pages
};

// Makes the caching allocator LibTorch's CPU allocator (idempotent; later
// calls only change the bound). Tensors allocated before keep their own
// deleters. `max_cached_bytes` ≤ 0: $DREAMSHOT_CPU_CACHE_MB if set, else
// 512 MiB; it bounds the cache and is the default headroom. Returns that
// bound. Binaries call core::InitCpu instead; tests call this directly.
int64_t InstallCachingCpuAllocator(int64_t max_cached_bytes = 0);

// Frees every cached block (e.g. between the denoising loop and the VAE).
void ReleaseCachedCpuMemory();

CpuCacheStats GetCpuCacheStats();

// Sets, for a scope and for the calling thread only, how far the footprint
// (live + cached) may exceed the most bytes ever live at once when a block
// this thread allocates needs fresh pages; other threads keep their own
// headroom (the default, or their own scope's). Scopes nest; on exit the
// thread's previous headroom applies again. Entering hands back, once, the
// cached pages above the new bound, so that a scope of 0 starts its work
// with the footprint at the live mark: the cache is shared, so these may be
// idle pages another thread freed (it loses no live block, and its own
// allocations keep mapping fresh pages within its own headroom). Frees are
// not affected: freeing never raises the footprint.
class ScopedCpuCacheHeadroom {
 public:
  explicit ScopedCpuCacheHeadroom(int64_t bytes);
  ~ScopedCpuCacheHeadroom();
  ScopedCpuCacheHeadroom(const ScopedCpuCacheHeadroom&) = delete;
  ScopedCpuCacheHeadroom& operator=(const ScopedCpuCacheHeadroom&) = delete;

 private:
  int64_t previous_;
};

// Starts a new peak-measurement period (e.g. per pipeline stage).
void ResetPeakCpuAllocated();

// Raises, for a scope and for the whole process, the bound on cached bytes
// (never lowers it: the highest live scope and the installed bound win). A
// training loop frees and re-allocates its whole working set, gigabytes
// above the weights, every step; with the default bound most of it went
// back to the kernel after each backward and was faulted in again by the
// next forward (1.7 M minor faults, 4 s of system time per 512² step of the
// SD 1.5 UNet). The footprint stays within the most bytes ever live plus
// the headroom whatever the bound, so keeping everything cached
// (kCacheEverything) costs no peak memory: the pages stay resident between
// steps instead. On exit the cache shrinks to the remaining bound at once.
inline constexpr int64_t kCacheEverything = INT64_MAX;
class ScopedCpuCacheBound {
 public:
  explicit ScopedCpuCacheBound(int64_t bytes);
  ~ScopedCpuCacheBound();
  ScopedCpuCacheBound(const ScopedCpuCacheBound&) = delete;
  ScopedCpuCacheBound& operator=(const ScopedCpuCacheBound&) = delete;

 private:
  int64_t bytes_;
};

// For comparisons with PyTorch eager (benchmarks): while in scope, new CPU
// tensors come from LibTorch's own allocator, as in a process that never
// installed this one, so a stock path pays the page faults of malloc's
// mmap/munmap churn that PyTorch eager and diffusers pay. Process-wide, not
// per thread: LibTorch has one CPU allocator. Every block keeps the deleter
// of the allocator that made it, so tensors may outlive the scope.
class ScopedStockCpuAllocator {
 public:
  ScopedStockCpuAllocator();
  ~ScopedStockCpuAllocator();
  ScopedStockCpuAllocator(const ScopedStockCpuAllocator&) = delete;
  ScopedStockCpuAllocator& operator=(const ScopedStockCpuAllocator&) = delete;

 private:
  c10::Allocator* previous_;  // in place on entry
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_CACHING_CPU_ALLOCATOR_H_

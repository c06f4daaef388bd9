#include "core/caching_cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <set>

#include "absl/strings/numbers.h"
#include "core/page_arena.h"

namespace dreamshot::core {
namespace {

constexpr size_t kMinCachedBlock = size_t{1} << 20;
constexpr size_t kAlignment = 64;  // what LibTorch's allocator guarantees
constexpr int64_t kDefaultMaxCachedBytes = int64_t{512} << 20;
// Outranks LibTorch's own registration (0); swaps at the same rank replace.
constexpr uint8_t kAllocatorPriority = 1;

// The headroom of the innermost ScopedCpuCacheHeadroom alive on this thread;
// -1: none, the process-wide default applies. Per thread, so that one job's
// setting (a pipeline's VAE decode) governs only the blocks its own thread
// allocates, never a concurrent job's.
thread_local int64_t t_headroom_bytes = -1;

void* AlignedAlloc(size_t n) {
  void* p = nullptr;
  if (::posix_memalign(&p, kAlignment, n == 0 ? kAlignment : n) != 0) return nullptr;
  return p;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    void* p = Acquire(n);
    return {p, p, &Delete, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }

  void set_max_cached_bytes(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    max_cached_bytes_ = bytes;
    headroom_bytes_ = bytes;
    TrimLocked();
    SyncStatsLocked();
  }

  void RaiseCacheBound(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    raised_bounds_.insert(bytes);
  }

  // The cache shrinks to the bound that remains at once, not at the next free.
  void DropRaisedCacheBound(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    raised_bounds_.erase(raised_bounds_.find(bytes));
    TrimLocked();
    SyncStatsLocked();
  }

  // After the calling thread's headroom changed: cached pages above its
  // bound go back now (what stays cached serves every thread).
  void TrimToThisThreadsBound() {
    std::lock_guard<std::mutex> lock(mu_);
    arena_.TrimResidentFree(FootprintBoundLocked() - arena_.stats().live_bytes);
    SyncStatsLocked();
  }

  void ReleaseAll() const {
    std::lock_guard<std::mutex> lock(mu_);
    arena_.TrimResidentFree(0);
    SyncStatsLocked();
  }

  CpuCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  static CachingCpuAllocator& Get() {
    static auto* allocator = new CachingCpuAllocator();  // outlives every tensor
    return *allocator;
  }

 private:
  static void Delete(void* p) { Get().Release(p); }

  // Blocks of ≥ 1 MiB come from the page arena, which reuses the pages of
  // freed blocks for any shape (split and merged) and maps fresh pages only
  // while the footprint (live + cached) stays within FootprintBoundLocked().
  // The bound lets a loop keep enough pages to run without page faults;
  // a headroom of 0 (ScopedCpuCacheHeadroom, for the allocating thread) makes
  // the footprint peak where live tensors peak, as a pipeline wants for its
  // one-shot VAE decode.
  void* Acquire(size_t n) const {
    if (n < kMinCachedBlock) {
      void* p = AlignedAlloc(n);
      TORCH_CHECK(p != nullptr, "DreamShot CPU allocator: out of memory allocating ", n, " bytes");
      return p;
    }
    std::lock_guard<std::mutex> lock(mu_);
    void* p = arena_.Allocate(n, FootprintBoundLocked());
    if (p == nullptr) {
      arena_.TrimResidentFree(0);
      p = arena_.Allocate(n, FootprintBoundLocked());
    }
    TORCH_CHECK(p != nullptr, "DreamShot CPU allocator: out of memory allocating ", n, " bytes");
    SyncStatsLocked();
    return p;
  }

  void Release(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!arena_.Free(p)) {  // a small block
      std::free(p);
      return;
    }
    TrimLocked();
    SyncStatsLocked();
  }

 public:
  void ResetPeaks() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
    stats_.peak_held_bytes = stats_.allocated_bytes + stats_.cached_bytes;
  }

 private:
  void SyncStatsLocked() const {
    const PageArenaStats& arena = arena_.stats();
    stats_.allocated_bytes = arena.live_bytes;
    stats_.cached_bytes = arena.resident_free_bytes;
    stats_.hits = arena.hits;
    stats_.misses = arena.misses;
    UpdatePeaksLocked();
  }

  void UpdatePeaksLocked() const {
    stats_.live_high_water_bytes = std::max(stats_.live_high_water_bytes, stats_.allocated_bytes);
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, stats_.allocated_bytes + stats_.cached_bytes);
  }

  int64_t CacheBoundLocked() const {
    return raised_bounds_.empty() ? max_cached_bytes_ : std::max(max_cached_bytes_, *raised_bounds_.rbegin());
  }

  void TrimLocked() const { arena_.TrimResidentFree(CacheBoundLocked()); }

  // The footprint (live + cached) may exceed the most bytes ever live at once
  // by at most the calling thread's headroom; below that, fresh pages are
  // mapped.
  int64_t FootprintBoundLocked() const {
    return stats_.live_high_water_bytes + (t_headroom_bytes >= 0 ? t_headroom_bytes : headroom_bytes_);
  }

  mutable std::mutex mu_;
  mutable PageArena arena_;
  mutable CpuCacheStats stats_;
  int64_t max_cached_bytes_ = kDefaultMaxCachedBytes;
  int64_t headroom_bytes_ = kDefaultMaxCachedBytes;  // of threads with no scope
  std::multiset<int64_t> raised_bounds_;              // of the live ScopedCpuCacheBounds
};

int64_t DefaultMaxCachedBytes() {
  const char* env = std::getenv("DREAMSHOT_CPU_CACHE_MB");
  int64_t mb = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &mb) && mb >= 0) return mb << 20;
  return kDefaultMaxCachedBytes;
}

}  // namespace

int64_t InstallCachingCpuAllocator(int64_t max_cached_bytes) {
  CachingCpuAllocator& allocator = CachingCpuAllocator::Get();
  const int64_t bound = max_cached_bytes > 0 ? max_cached_bytes : DefaultMaxCachedBytes();
  allocator.set_max_cached_bytes(bound);
  static const bool installed = [&] {
    c10::SetAllocator(c10::DeviceType::CPU, &allocator, kAllocatorPriority);
    return true;
  }();
  (void)installed;
  return bound;
}

void ReleaseCachedCpuMemory() { CachingCpuAllocator::Get().ReleaseAll(); }

ScopedCpuCacheHeadroom::ScopedCpuCacheHeadroom(int64_t bytes) : previous_(t_headroom_bytes) {
  t_headroom_bytes = std::max<int64_t>(0, bytes);
  CachingCpuAllocator::Get().TrimToThisThreadsBound();
}

// Nothing is trimmed on exit: a lower headroom restored (nested scopes)
// applies from this thread's next allocation.
ScopedCpuCacheHeadroom::~ScopedCpuCacheHeadroom() { t_headroom_bytes = previous_; }

CpuCacheStats GetCpuCacheStats() { return CachingCpuAllocator::Get().stats(); }

void ResetPeakCpuAllocated() { CachingCpuAllocator::Get().ResetPeaks(); }

ScopedCpuCacheBound::ScopedCpuCacheBound(int64_t bytes) : bytes_(std::max<int64_t>(0, bytes)) {
  CachingCpuAllocator::Get().RaiseCacheBound(bytes_);
}

ScopedCpuCacheBound::~ScopedCpuCacheBound() { CachingCpuAllocator::Get().DropRaisedCacheBound(bytes_); }

ScopedStockCpuAllocator::ScopedStockCpuAllocator() : previous_(c10::GetAllocator(c10::DeviceType::CPU)) {
  c10::SetAllocator(c10::DeviceType::CPU, c10::GetDefaultCPUAllocator(), kAllocatorPriority);
}

ScopedStockCpuAllocator::~ScopedStockCpuAllocator() {
  c10::SetAllocator(c10::DeviceType::CPU, previous_, kAllocatorPriority);
}

}  // namespace dreamshot::core

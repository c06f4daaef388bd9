#include "core/caching_cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

#include "absl/strings/numbers.h"

namespace dreamshot::core {
namespace {

constexpr size_t kMinCachedBlock = size_t{1} << 20;
constexpr size_t kAlignment = 64;  // what LibTorch's allocator guarantees
constexpr int64_t kDefaultMaxCachedBytes = int64_t{512} << 20;

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
    TrimLocked();
  }

  void ReleaseAll() const {
    std::lock_guard<std::mutex> lock(mu_);
    FreeCachedLocked(0);
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

  void* Acquire(size_t n) const {
    if (n < kMinCachedBlock) {
      void* p = AlignedAlloc(n);
      TORCH_CHECK(p != nullptr, "DreamShot CPU allocator: out of memory allocating ", n, " bytes");
      return p;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.lower_bound(n);
      if (it != free_.end() && it->first <= n + n / 8) {
        void* p = it->second;
        const size_t size = it->first;
        free_.erase(it);
        stats_.cached_bytes -= static_cast<int64_t>(size);
        stats_.allocated_bytes += static_cast<int64_t>(size);
        UpdatePeaksLocked();
        ++stats_.hits;
        live_[p] = size;
        return p;
      }
    }
    void* p = AlignedAlloc(n);
    if (p == nullptr) {
      ReleaseAll();
      p = AlignedAlloc(n);
    }
    TORCH_CHECK(p != nullptr, "DreamShot CPU allocator: out of memory allocating ", n, " bytes");
    std::lock_guard<std::mutex> lock(mu_);
    live_[p] = n;
    stats_.allocated_bytes += static_cast<int64_t>(n);
    UpdatePeaksLocked();
    ++stats_.misses;
    return p;
  }

  void Release(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) {  // a small block
      std::free(p);
      return;
    }
    const size_t size = it->second;
    live_.erase(it);
    stats_.allocated_bytes -= static_cast<int64_t>(size);
    free_.emplace(size, p);
    stats_.cached_bytes += static_cast<int64_t>(size);
    TrimLocked();
    UpdatePeaksLocked();
  }

 public:
  void ResetPeaks() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
    stats_.peak_held_bytes = stats_.allocated_bytes + stats_.cached_bytes;
  }

 private:
  void UpdatePeaksLocked() const {
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, stats_.allocated_bytes + stats_.cached_bytes);
  }

  void TrimLocked() const { FreeCachedLocked(max_cached_bytes_); }

  // Frees cached blocks, largest first (the rarest shapes to be asked for
  // again), until at most `keep_bytes` stay cached.
  void FreeCachedLocked(int64_t keep_bytes) const {
    while (stats_.cached_bytes > keep_bytes && !free_.empty()) {
      auto last = std::prev(free_.end());
      stats_.cached_bytes -= static_cast<int64_t>(last->first);
      std::free(last->second);
      free_.erase(last);
    }
  }

  mutable std::mutex mu_;
  mutable std::multimap<size_t, void*> free_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable CpuCacheStats stats_;
  int64_t max_cached_bytes_ = kDefaultMaxCachedBytes;
};

int64_t DefaultMaxCachedBytes() {
  const char* env = std::getenv("DREAMSHOT_CPU_CACHE_MB");
  int64_t mb = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &mb) && mb >= 0) return mb << 20;
  return kDefaultMaxCachedBytes;
}

}  // namespace

void InstallCachingCpuAllocator(int64_t max_cached_bytes) {
  CachingCpuAllocator& allocator = CachingCpuAllocator::Get();
  allocator.set_max_cached_bytes(max_cached_bytes > 0 ? max_cached_bytes : DefaultMaxCachedBytes());
  static const bool installed = [&] {
    // Priority 1 outranks LibTorch's own registration (0).
    c10::SetAllocator(c10::DeviceType::CPU, &allocator, /*priority=*/1);
    return true;
  }();
  (void)installed;
}

void ReleaseCachedCpuMemory() { CachingCpuAllocator::Get().ReleaseAll(); }

CpuCacheStats GetCpuCacheStats() { return CachingCpuAllocator::Get().stats(); }

void ResetPeakCpuAllocated() { CachingCpuAllocator::Get().ResetPeaks(); }

}  // namespace dreamshot::core

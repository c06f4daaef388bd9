#include "core/caching_cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <future>
#include <thread>
#include <vector>

namespace dreamshot::core {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

class CachingCpuAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InstallCachingCpuAllocator(64 * kMiB);
    ReleaseCachedCpuMemory();
  }
};

TEST_F(CachingCpuAllocatorTest, LibTorchAllocatesThroughIt) {
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor t = torch::empty({4 * kMiB / 4});
  EXPECT_EQ(GetCpuCacheStats().allocated_bytes, before.allocated_bytes + 4 * kMiB);
}

TEST_F(CachingCpuAllocatorTest, FreedBlockServesTheNextRequestOfItsSize) {
  void* first = nullptr;
  {
    torch::Tensor t = torch::ones({3 * kMiB / 4});
    first = t.data_ptr();
  }
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, 3 * kMiB);
  const int64_t hits = GetCpuCacheStats().hits;
  torch::Tensor again = torch::empty({3 * kMiB / 4});
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(GetCpuCacheStats().hits, hits + 1);
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, 0);
}

// With a headroom of 0, takes the live bytes to their high-water mark with
// one block and frees it into the cache; returns its size.
int64_t FillToTheHighWaterMark() {
  const CpuCacheStats stats = GetCpuCacheStats();
  const int64_t headroom = stats.live_high_water_bytes - stats.allocated_bytes;
  const int64_t size = (headroom / kMiB + 8) * kMiB;
  { torch::Tensor block = torch::empty({size}, torch::kUInt8); }
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, size);
  return size;
}

TEST_F(CachingCpuAllocatorTest, OtherSizesReuseCachedPages) {
  const int64_t size = FillToTheHighWaterMark();
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor small = torch::full({2 * kMiB / 4}, 3.0f);
  const CpuCacheStats after = GetCpuCacheStats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.cached_bytes, size - 2 * kMiB);
  EXPECT_EQ(small.sum().item<double>(), 3.0 * 2 * kMiB / 4);
}

TEST_F(CachingCpuAllocatorTest, WithNoHeadroomCachedPagesGoBackBeforeFreshOnesAreMapped) {
  ScopedCpuCacheHeadroom no_headroom(0);
  const int64_t size = FillToTheHighWaterMark();
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor large = torch::full({(size + 4 * kMiB) / 4}, 5.0f);  // fits in no cached range
  const CpuCacheStats after = GetCpuCacheStats();
  EXPECT_EQ(after.cached_bytes, 0);
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.live_high_water_bytes, before.live_high_water_bytes + 4 * kMiB);
  EXPECT_EQ(after.peak_held_bytes, after.live_high_water_bytes);  // never live + cache
  EXPECT_EQ(large.sum().item<double>(), 5.0 * (size + 4 * kMiB) / 4);
}

TEST_F(CachingCpuAllocatorTest, BelowTheHighWaterMarkOtherSizesMapNewPagesAndKeepTheCache) {
  ScopedCpuCacheHeadroom no_headroom(0);
  FillToTheHighWaterMark();
  ReleaseCachedCpuMemory();  // 8+ MiB of room under the mark
  { torch::Tensor c = torch::empty({4 * kMiB / 4}); }
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor d = torch::empty({6 * kMiB / 4});  // larger than the cached 4 MiB
  const CpuCacheStats after = GetCpuCacheStats();
  EXPECT_EQ(after.cached_bytes, 4 * kMiB);
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.live_high_water_bytes, before.live_high_water_bytes);
}

TEST_F(CachingCpuAllocatorTest, WithinTheHeadroomFreshPagesAreMappedAndTheCacheKept) {
  const int64_t size = FillToTheHighWaterMark();
  ScopedCpuCacheHeadroom headroom(size + 8 * kMiB);
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor d = torch::empty({(size + 4 * kMiB) / 4});  // fits in no cached range
  const CpuCacheStats after = GetCpuCacheStats();
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.cached_bytes, size);
  // Lowering the headroom to 0 hands back what lies above the live mark.
  {
    ScopedCpuCacheHeadroom none(0);
    const CpuCacheStats trimmed = GetCpuCacheStats();
    EXPECT_EQ(trimmed.cached_bytes, 0);
    EXPECT_LE(trimmed.allocated_bytes + trimmed.cached_bytes, trimmed.live_high_water_bytes);
  }
}

// Two jobs at once, as in the server: one decodes under a headroom of 0 on
// its thread while this thread runs with the default headroom.
TEST_F(CachingCpuAllocatorTest, AScopeOnAnotherThreadLeavesThisThreadsHeadroomAlone) {
  const int64_t size = FillToTheHighWaterMark();
  InstallCachingCpuAllocator(2 * size + 16 * kMiB);  // a default headroom with room for the block below
  std::promise<void> entered, leave;
  std::thread decoding_job([&] {
    ScopedCpuCacheHeadroom no_headroom(0);
    entered.set_value();
    leave.get_future().wait();
  });
  entered.get_future().wait();
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, size);  // the footprint was at the mark: nothing above a bound of 0
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor large = torch::empty({(size + 4 * kMiB) / 4});  // fits in no cached range
  const CpuCacheStats after = GetCpuCacheStats();
  leave.set_value();
  decoding_job.join();
  // Fresh pages within this thread's (default) headroom, the cache kept: as
  // if no other thread had a scope.
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.cached_bytes, size);
  EXPECT_GT(after.allocated_bytes + after.cached_bytes, after.live_high_water_bytes);
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, size);  // leaving the scope trimmed nothing
}

TEST_F(CachingCpuAllocatorTest, AScopeOnAnotherThreadGovernsThatThreadsBlocks) {
  const int64_t size = FillToTheHighWaterMark();
  ScopedCpuCacheHeadroom roomy(size + 8 * kMiB);  // this thread's: it would keep the cache
  std::thread decoding_job([&] {
    ScopedCpuCacheHeadroom no_headroom(0);
    ResetPeakCpuAllocated();
    const CpuCacheStats before = GetCpuCacheStats();
    torch::Tensor large = torch::empty({(size + 4 * kMiB) / 4});  // fits in no cached range
    const CpuCacheStats after = GetCpuCacheStats();
    EXPECT_EQ(after.cached_bytes, 0);  // handed back before fresh pages were mapped
    EXPECT_EQ(after.misses, before.misses + 1);
    EXPECT_EQ(after.peak_held_bytes, after.live_high_water_bytes);  // never live + cache
  });
  decoding_job.join();
}

TEST_F(CachingCpuAllocatorTest, OddSizesRoundToPagesAndStayWritable) {
  const int64_t n = 1 * kMiB + 12345;
  torch::Tensor t = torch::empty({n}, torch::kUInt8);
  EXPECT_GE(GetCpuCacheStats().allocated_bytes, n);
  t.fill_(7);
  EXPECT_EQ(t.sum().item<int64_t>(), 7 * n);
}

TEST_F(CachingCpuAllocatorTest, TracksPeaks) {
  ResetPeakCpuAllocated();
  const int64_t base = GetCpuCacheStats().allocated_bytes;
  {
    torch::Tensor a = torch::empty({5 * kMiB / 4});
    torch::Tensor b = torch::empty({7 * kMiB / 4});
  }
  const CpuCacheStats stats = GetCpuCacheStats();
  EXPECT_EQ(stats.peak_allocated_bytes, base + 12 * kMiB);
  EXPECT_EQ(stats.allocated_bytes, base);
  EXPECT_GE(stats.peak_held_bytes, stats.peak_allocated_bytes);
}

TEST_F(CachingCpuAllocatorTest, CacheStaysWithinItsBoundAndCanBeEmptied) {
  {
    std::vector<torch::Tensor> blocks;
    for (int i = 0; i < 10; ++i) blocks.push_back(torch::empty({(10 + i) * kMiB / 4}));
  }  // 145 MiB freed into a 64 MiB cache
  EXPECT_LE(GetCpuCacheStats().cached_bytes, 64 * kMiB);
  EXPECT_GT(GetCpuCacheStats().cached_bytes, 0);
  ReleaseCachedCpuMemory();
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, 0);
}

TEST_F(CachingCpuAllocatorTest, RawInterfaceAndSmallBlocksWork) {
  c10::Allocator* allocator = c10::GetAllocator(c10::DeviceType::CPU);
  ASSERT_NE(allocator->raw_deleter(), nullptr);  // oneDNN (ideep) allocates through this
  void* large = allocator->raw_allocate(2 * kMiB);
  void* small = allocator->raw_allocate(100);
  ASSERT_NE(large, nullptr);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(large) % 64, 0u);
  allocator->raw_deallocate(small);
  allocator->raw_deallocate(large);
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, 2 * kMiB);
  torch::Tensor values = torch::arange(1000, torch::kFloat);  // small, through malloc
  EXPECT_EQ(values.sum().item<float>(), 499500.0f);
}

TEST_F(CachingCpuAllocatorTest, ARaisedBoundKeepsAWorkingSetCachedUntilItsScopeEnds) {
  auto allocate_and_free_working_set = [] {
    std::vector<torch::Tensor> live;
    for (int i = 0; i < 3; ++i) live.push_back(torch::ones({40 * kMiB / 4}));
  };
  allocate_and_free_working_set();
  EXPECT_LE(GetCpuCacheStats().cached_bytes, 64 * kMiB);  // the installed bound
  {
    ScopedCpuCacheBound keep(kCacheEverything);
    {
      ScopedCpuCacheBound lower(32 * kMiB);  // a lower scope never lowers the bound
      allocate_and_free_working_set();
      EXPECT_EQ(GetCpuCacheStats().cached_bytes, 120 * kMiB);
    }
    EXPECT_EQ(GetCpuCacheStats().cached_bytes, 120 * kMiB);
    const int64_t misses = GetCpuCacheStats().misses;
    allocate_and_free_working_set();  // a second step: no fresh pages
    EXPECT_EQ(GetCpuCacheStats().misses, misses);
    EXPECT_EQ(GetCpuCacheStats().cached_bytes, 120 * kMiB);
  }
  EXPECT_LE(GetCpuCacheStats().cached_bytes, 64 * kMiB);
}

TEST_F(CachingCpuAllocatorTest, AStockScopeBypassesTheCacheAndItsTensorsOutliveIt) {
  c10::Allocator* ours = c10::GetAllocator(c10::DeviceType::CPU);
  const CpuCacheStats before = GetCpuCacheStats();
  torch::Tensor from_stock;
  {
    ScopedStockCpuAllocator stock;
    EXPECT_NE(c10::GetAllocator(c10::DeviceType::CPU), ours);
    from_stock = torch::full({4 * kMiB / 4}, 2.0f);
    torch::Tensor freed_inside = torch::ones({8 * kMiB / 4});
  }
  EXPECT_EQ(c10::GetAllocator(c10::DeviceType::CPU), ours);
  const CpuCacheStats after = GetCpuCacheStats();
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(after.cached_bytes, before.cached_bytes);  // the 8 MiB block went back to malloc
  EXPECT_EQ(after.misses, before.misses);
  torch::Tensor from_ours = torch::empty({4 * kMiB / 4});
  EXPECT_EQ(GetCpuCacheStats().allocated_bytes, before.allocated_bytes + 4 * kMiB);
  EXPECT_EQ(from_stock.sum().item<float>(), 2.0f * kMiB);
  from_stock = torch::Tensor();  // freed by LibTorch's deleter after the scope
}

}  // namespace
}  // namespace dreamshot::core

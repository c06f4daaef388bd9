#include "core/caching_cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

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
  // Much smaller requests do not take a large block.
  { torch::Tensor big = torch::empty({8 * kMiB / 4}); }
  torch::Tensor small = torch::empty({2 * kMiB / 4});
  EXPECT_EQ(GetCpuCacheStats().cached_bytes, 8 * kMiB);
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

}  // namespace
}  // namespace dreamshot::core

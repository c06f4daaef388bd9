#include "core/cpu_init.h"

#include <c10/core/Allocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "core/caching_cpu_allocator.h"

namespace dreamshot::core {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

TEST(CpuInitTest, SetsThreadsAndAllocatorAndReportsThem) {
  // A core type already set: kept, and no re-exec of the test binary.
  ::setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  char self[] = "cpu_init_test";
  char* argv[] = {self, nullptr};
  const CpuSettings settings = InitCpu(argv, {/*threads=*/1, /*max_cached_bytes=*/32 * kMiB});
  EXPECT_EQ(settings.blas_core_type, "Haswell");
  EXPECT_EQ(settings.threads, 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_EQ(settings.max_cached_bytes, 32 * kMiB);
  // LibTorch's tensors now come from the caching allocator.
  const int64_t before = GetCpuCacheStats().allocated_bytes;
  torch::Tensor t = torch::empty({2 * kMiB / 4});
  EXPECT_EQ(GetCpuCacheStats().allocated_bytes, before + 2 * kMiB);
}

TEST(CpuInitTest, DefaultsComeFromTheEnvironment) {
  ::setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  ::setenv("OMP_NUM_THREADS", "2", 1);
  ::setenv("DREAMSHOT_CPU_CACHE_MB", "48", 1);
  char self[] = "cpu_init_test";
  char* argv[] = {self, nullptr};
  const CpuSettings settings = InitCpu(argv);
  EXPECT_EQ(settings.threads, 2);
  EXPECT_EQ(settings.max_cached_bytes, 48 * kMiB);
}

}  // namespace
}  // namespace dreamshot::core

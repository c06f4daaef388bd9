#include "bench/torch_bench_main.h"

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "core/blas_core_type.h"
#include "core/caching_cpu_allocator.h"
#include "core/device.h"

namespace dreamshot::bench {

double PeakRssMiB() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

}  // namespace dreamshot::bench

int main(int argc, char** argv) {
  dreamshot::core::ReexecWithBlasCoreType(argv);  // before any BLAS work
  dreamshot::core::InitCpuThreads();
  dreamshot::core::InstallCachingCpuAllocator();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

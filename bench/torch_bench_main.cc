#include "bench/torch_bench_main.h"

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "core/cpu_init.h"

namespace dreamshot::bench {

double PeakRssMiB() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

}  // namespace dreamshot::bench

int main(int argc, char** argv) {
  dreamshot::core::InitCpu(argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}

// Shared by the LibTorch benchmarks: link //bench:torch_bench_main for a
// main() that sets up the CPU runtime as DreamShot's binaries do
// (core::InitCpu: BLAS core type, threads = cores, caching allocator) before
// running the registered benchmarks, and records the CPU model in the
// context Google Benchmark prints (it shows cores and caches, not the model).
#ifndef DREAMSHOT_BENCH_TORCH_BENCH_MAIN_H_
#define DREAMSHOT_BENCH_TORCH_BENCH_MAIN_H_

#include <string>
#include <vector>

namespace dreamshot::bench {

// The process's peak resident set so far (getrusage), MiB.
double PeakRssMiB();

// "model name" of /proc/cpuinfo, "unknown" without it.
std::string CpuModel();

// The 1-minute load average (-1 when unavailable).
double LoadAverage();

// The median of `values` (0 when empty).
double Median(std::vector<double> values);

}  // namespace dreamshot::bench

#endif  // DREAMSHOT_BENCH_TORCH_BENCH_MAIN_H_

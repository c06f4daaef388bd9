// Shared by the LibTorch benchmarks: link //bench:torch_bench_main for a
// main() that sets up the CPU runtime as DreamShot's binaries do
// (core::InitCpu: BLAS core type, threads = cores, caching allocator) before
// running the registered benchmarks.
#ifndef DREAMSHOT_BENCH_TORCH_BENCH_MAIN_H_
#define DREAMSHOT_BENCH_TORCH_BENCH_MAIN_H_

namespace dreamshot::bench {

// The process's peak resident set so far (getrusage), MiB.
double PeakRssMiB();

}  // namespace dreamshot::bench

#endif  // DREAMSHOT_BENCH_TORCH_BENCH_MAIN_H_

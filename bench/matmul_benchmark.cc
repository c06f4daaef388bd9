// fp32 matmul throughput of the LibTorch build in use. On a 2-core AVX2
// machine Debian's reference BLAS gives ~4 GFLOP/s and OpenBLAS ~140 GFLOP/s
// (tools/setup.sh installs libopenblas0-openmp for that reason).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

namespace {

void BM_MatmulFp32(benchmark::State& state) {
  const int64_t n = state.range(0);
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({n, n});
  torch::Tensor b = torch::randn({n, n});
  for (auto _ : state) {
    torch::Tensor c = torch::mm(a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MatmulFp32)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

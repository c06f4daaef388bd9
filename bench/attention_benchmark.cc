// Multi-head attention alone, SD 1.5 shapes at 512² (64×64 latents, batch 2):
// self-attention of the first/last UNet level (4096 tokens, 8 heads × 40),
// cross-attention to 77 text tokens, and the VAE mid-block (4096 tokens,
// one head × 512). Counters: GFLOP/s of the two matmuls (4·Lq·Lk·D per head).
//   bazel run -c opt //bench:attention_benchmark -- --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "models/attention/attention.h"

namespace dreamshot::models {
namespace {

// args: batch, query tokens, key tokens, heads, head dim, 1 = ATen batched-matmul
// path, CPU score block KiB (0 = default)
void BM_MultiHeadAttention(benchmark::State& state) {
  const int64_t b = state.range(0), lq = state.range(1), lk = state.range(2), heads = state.range(3),
                d = state.range(4);
  const bool aten_path = state.range(5) != 0;
  AttentionOptions options;
  if (state.range(6) > 0) options.cpu_cache_bytes = state.range(6) << 10;
  torch::manual_seed(0);
  torch::Tensor q = torch::randn({b, lq, heads * d}), k = torch::randn({b, lk, heads * d}),
                v = torch::randn({b, lk, heads * d});
  if (aten_path) {
    // The ATen path is what runs with autograd on: make the inputs need it.
    q.requires_grad_(true);
  }
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    torch::Tensor out;
    if (aten_path) {
      torch::AutoGradMode grad(true);
      out = MultiHeadAttention(q, k, v, heads, 0.125, options);
    } else {
      out = MultiHeadAttention(q, k, v, heads, 0.125, options);
    }
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * b * heads * lq * lk * d * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MultiHeadAttention)
    ->ArgNames({"b", "lq", "lk", "h", "d", "aten", "cacheKiB"})
    ->Args({2, 4096, 4096, 8, 40, 0, 0})
    ->Args({2, 4096, 4096, 8, 40, 0, 256})
    ->Args({2, 4096, 4096, 8, 40, 0, 2048})
    ->Args({2, 4096, 4096, 8, 40, 0, 4096})
    ->Args({2, 4096, 4096, 8, 40, 1, 0})
    ->Args({2, 4096, 77, 8, 40, 0, 0})
    ->Args({2, 1024, 1024, 8, 40, 0, 0})
    ->Args({1, 4096, 4096, 1, 512, 0, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace dreamshot::models

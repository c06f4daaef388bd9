// Attention forward + backward alone (the training path), SD 1.5 shapes,
// batch 2: self-attention of the first UNet level at 256² (1024 tokens) and
// 512² (4096 tokens), 8 heads × 40, and cross-attention to 77 text tokens,
// forward + backward and forward alone (under autograd, as training runs it);
// our memory-efficient Function against the stock formulation (ATen matmul
// + softmax, probabilities saved), which is what PyTorch eager runs:
//   bazel run -c opt //bench:attention_training_benchmark -- --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "models/attention/attention.h"

namespace dreamshot::models {
namespace {

// args: batch, query tokens, key tokens, heads, head dim, 1 = stock,
// 0 = forward only (still under autograd: what the training forward runs),
// CPU training block KiB (0 = default)
void BM_AttentionForwardBackward(benchmark::State& state) {
  const bool backward = state.range(6) != 0;
  AttentionOptions options;
  if (state.range(7) > 0) options.cpu_training_block_bytes = state.range(7) << 10;
  const int64_t b = state.range(0), lq = state.range(1), lk = state.range(2), heads = state.range(3),
                d = state.range(4);
  const AttentionAutograd mode = state.range(5) != 0 ? AttentionAutograd::kStock : AttentionAutograd::kMemoryEfficient;
  SetAttentionAutogradForComparison(mode);
  torch::manual_seed(0);
  const torch::Tensor q = torch::randn({b, lq, heads * d}, torch::requires_grad());
  const torch::Tensor k = torch::randn({b, lk, heads * d}, torch::requires_grad());
  const torch::Tensor v = torch::randn({b, lk, heads * d}, torch::requires_grad());
  const torch::Tensor dout = torch::randn({b, lq, heads * d});
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  for (auto _ : state) {
    torch::Tensor out = MultiHeadAttention(q, k, v, heads, scale, options);
    if (backward) out.backward(dout);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  SetAttentionAutogradForComparison(AttentionAutograd::kMemoryEfficient);
  // Forward 2 matmuls, backward 4 (ours recomputes QKᵀ: one more).
  state.counters["GFLOP/s_nominal"] = benchmark::Counter(
      (backward ? 12.0 : 4.0) * b * heads * lq * lk * d * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AttentionForwardBackward)
    ->ArgNames({"b", "lq", "lk", "h", "d", "stock", "bwd", "blockKiB"})
    ->Args({2, 1024, 1024, 8, 40, 0, 1, 0})
    ->Args({2, 1024, 1024, 8, 40, 1, 1, 0})
    ->Args({2, 1024, 1024, 8, 40, 0, 0, 0})
    ->Args({2, 1024, 1024, 8, 40, 1, 0, 0})
    ->Args({2, 1024, 77, 8, 40, 0, 1, 0})
    ->Args({2, 1024, 77, 8, 40, 1, 1, 0})
    ->Args({2, 4096, 4096, 8, 40, 0, 1, 0})
    ->Args({2, 4096, 4096, 8, 40, 1, 1, 0})
    ->Args({2, 4096, 4096, 8, 40, 0, 0, 0})
    ->Args({2, 4096, 4096, 8, 40, 1, 0, 0})
    ->Args({2, 4096, 4096, 8, 40, 0, 1, 512})
    ->Args({2, 4096, 4096, 8, 40, 0, 1, 8192})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace dreamshot::models

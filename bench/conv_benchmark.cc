// 3×3 convolutions of SD 1.5 shapes (batch 2) in the memory formats LibTorch
// 1.13 offers on the CPU, to decide how the UNet and VAE should run them:
// 0 = NCHW (oneDNN reorders activations and weights on every call),
// 1 = channels-last activations and weights,
// 2 = oneDNN tensors with the weight reordered once (mkldnn_reorder_conv2d_weight),
// 3 = im2col of the whole batch and one BLAS GEMM with the weight as stored
// (models/blocks/conv.h's kBatchGemm).
// Measured (2 cores, medians of 3): 1280 ch at 8²: 72 / 82 / 32 / 34 ms for
// formats 0–3; VAE levels 128 ch at 256², 256 at 128², 512 at 64²: NCHW
// 338–380 / 264–320 / 266–310 ms, channels-last 474–516 / 385–520 / 279–346.
//   bazel run -c opt //bench:conv_benchmark -- --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "models/blocks/conv.h"

namespace {

void BM_Conv3x3(benchmark::State& state) {
  const int64_t channels = state.range(0), edge = state.range(1), format = state.range(2);
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({2, channels, edge, edge});
  torch::Tensor w = torch::randn({channels, channels, 3, 3}) * 0.01;
  torch::Tensor bias = torch::randn({channels});
  torch::NoGradGuard no_grad;
  if (format == 1) {
    x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    w = w.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(channels, channels, 3).padding(1));
  conv->weight.set_data(w);
  conv->bias.set_data(bias);
  torch::Tensor packed;
  if (format == 2) packed = torch::mkldnn_reorder_conv2d_weight(w.to_mkldnn(), {1, 1}, {1, 1}, {1, 1}, 1);
  for (auto _ : state) {
    torch::Tensor y;
    if (format == 3) {
      y = dreamshot::models::Conv2dForwardWith(dreamshot::models::Conv2dAlgorithm::kBatchGemm, *conv, x);
    } else if (format == 2) {
      y = torch::mkldnn_convolution(x.to_mkldnn(), packed, bias, {1, 1}, {1, 1}, {1, 1}, 1).to_dense();
    } else {
      y = torch::conv2d(x, w, bias, 1, 1);
    }
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 9 * channels * channels * edge * edge * 2 *
                                                     state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Conv3x3)
    ->ArgNames({"c", "hw", "format"})
    ->ArgsProduct({{320}, {64}, {0, 1, 2}})
    ->ArgsProduct({{640}, {16, 32}, {0, 1, 2, 3}})
    ->ArgsProduct({{320}, {32}, {0, 2, 3}})
    ->ArgsProduct({{1280}, {8, 16}, {0, 1, 2, 3}})
    // VAE decoder levels (batch 2 at half the edge ≈ one 512² image's work)
    ->ArgsProduct({{128}, {256}, {0, 1}})
    ->ArgsProduct({{256}, {128}, {0, 1}})
    ->ArgsProduct({{512}, {64}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

// Full-size Stable Diffusion 1.5 UNet (random weights: timing does not
// depend on values), float32 on the CPU: one classifier-free-guidance step
// (batch 2 = unconditional + conditional, 77 text tokens) at 64×64 latents
// (512² images) and at 32×32 (256²), and the first down block's
// Transformer2DModel alone (320 channels, 8 heads, self-attention over H·W).
// Each benchmark builds the model, runs one untimed warm-up step and times 3
// steps (≈1 min at 64×64 on 2 cores):
//   bazel run -c opt //bench:unet_benchmark -- --benchmark_repetitions=3 --benchmark_report_aggregates_only
// Reports the process's peak RSS (getrusage) after each benchmark.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <memory>
#include <string>

#include "bench/torch_bench_main.h"
#include "core/device.h"
#include "models/unet/transformer_2d.h"
#include "models/unet/unet_2d_condition.h"

namespace dreamshot::models::unet {
namespace {

void BM_UNetCfgStep(benchmark::State& state) {
  const int64_t latent = state.range(0);
  auto unet = UNet2DConditionModel::Create(UNetConfig{}, core::DeviceSpec{});  // SD 1.5 defaults
  if (!unet.ok()) {
    state.SkipWithError(std::string(unet.status().message()).c_str());
    return;
  }
  torch::manual_seed(0);
  const torch::Tensor sample = torch::randn({2, 4, latent, latent});
  const torch::Tensor context = torch::randn({2, 77, 768});
  const torch::Tensor t = torch::tensor(999, torch::kLong);
  torch::NoGradGuard no_grad;
  // A sampler runs tens of steps: time the steady state, after oneDNN has
  // generated its kernels and the allocator cache holds the step's shapes.
  (void)(*unet)->Forward(sample, t, context);
  for (auto _ : state) {
    auto out = (*unet)->Forward(sample, t, context);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data_ptr());
  }
  state.counters["threads"] = torch::get_num_threads();
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
}
BENCHMARK(BM_UNetCfgStep)->Arg(32)->Arg(64)->Iterations(3)->Unit(benchmark::kSecond)->UseRealTime();

void BM_Transformer2DBlock(benchmark::State& state) {
  const int64_t latent = state.range(0);
  Transformer2DOptions o;
  o.in_channels = 320;
  o.heads = 8;
  o.dim_head = 40;
  o.cross_attention_dim = 768;
  Transformer2DModel block(o);
  block->eval();
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({2, 320, latent, latent});
  const torch::Tensor context = torch::randn({2, 77, 768});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    torch::Tensor out = block(x, context);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.counters["threads"] = torch::get_num_threads();
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
}
BENCHMARK(BM_Transformer2DBlock)->Arg(32)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace dreamshot::models::unet

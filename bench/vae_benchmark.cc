// Full-size Stable Diffusion 1.5 VAE decoder (random weights: timing does not
// depend on values), float32 on the CPU: decode of a 64×64 latent (a 512²
// image) and tiled decode of a 128×128 latent (1024², 512-px tiles, overlap
// 0.25, as diffusers' enable_tiling). Each decode takes tens of seconds on a
// small machine, so run few repetitions:
//   bazel run -c opt //bench:vae_benchmark -- --benchmark_repetitions=3 --benchmark_report_aggregates_only
// Reports the process's peak RSS (getrusage) after each benchmark.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <memory>

#include "bench/torch_bench_main.h"
#include "core/caching_cpu_allocator.h"
#include "core/device.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot::models::vae {
namespace {

void BM_VaeDecode(benchmark::State& state) {
  const int64_t latent = state.range(0);
  const bool tiled = state.range(1) != 0;
  auto vae = AutoencoderKL::Create(VaeConfig{}, core::DeviceSpec{});  // SD 1.5 defaults
  if (!vae.ok()) {
    state.SkipWithError(std::string(vae.status().message()).c_str());
    return;
  }
  VaeTiling tiling;
  tiling.enabled = tiled;
  (*vae)->set_tiling(tiling);
  torch::manual_seed(0);
  const torch::Tensor z = torch::randn({1, 4, latent, latent});
  for (auto _ : state) {
    auto image = (*vae)->Decode(z);
    if (!image.ok()) {
      state.SkipWithError(std::string(image.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(image->data_ptr());
  }
  state.counters["threads"] = torch::get_num_threads();
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
  const dreamshot::core::CpuCacheStats cache = dreamshot::core::GetCpuCacheStats();
  state.counters["cache_hits"] = static_cast<double>(cache.hits);
  state.counters["cache_misses"] = static_cast<double>(cache.misses);
}
// {latent edge, tiled}
BENCHMARK(BM_VaeDecode)
    ->Args({64, 0})
    ->Args({128, 1})
    ->ArgNames({"latent", "tiled"})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace dreamshot::models::vae

// Peak resident memory of SD 1.5 text-to-image inference at 512² in float32
// on the CPU, every network resident at once as a pipeline holds them: CLIP
// text encoder (2 prompts: unconditional + conditional), one UNet CFG step
// at batch 2 on 64×64 latents, VAE decode of one 64×64 latent. Random
// weights; the weights alone are 4.26 GB. Counters: peak RSS after each
// stage (getrusage, so each includes the ones before) and the seconds each
// stage took; *_tensors_peak: the most bytes live in LibTorch blocks of
// ≥ 1 MiB during the stage (weights included), held: plus the allocator cache.
//   bazel run -c opt //bench:pipeline_memory_benchmark
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>

#include "bench/torch_bench_main.h"
#include "core/caching_cpu_allocator.h"
#include "models/clip/text_model.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BM_Sd15Txt2ImgPeakRss(benchmark::State& state) {
  auto text = models::clip::ClipTextModel::Create({}, {}).value();
  auto unet = models::unet::UNet2DConditionModel::Create({}, {}).value();
  auto vae = models::vae::AutoencoderKL::Create({}, {}).value();
  state.counters["weights_MiB"] = bench::PeakRssMiB();
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    const torch::Tensor ids = torch::randint(0, 49408, {2, 77}, torch::kLong);
    const torch::Tensor context = text->Forward(ids).value().last_hidden_state;
    state.counters["text_s"] = SecondsSince(start);
    state.counters["after_text_MiB"] = bench::PeakRssMiB();
    start = std::chrono::steady_clock::now();
    const torch::Tensor latents = torch::randn({2, 4, 64, 64});
    const torch::Tensor noise = unet->Forward(latents, torch::tensor(999, torch::kLong), context).value();
    state.counters["unet_step_s"] = SecondsSince(start);
    state.counters["after_unet_MiB"] = bench::PeakRssMiB();
    state.counters["unet_tensors_peak_MiB"] = core::GetCpuCacheStats().peak_allocated_bytes / 1048576.0;
    state.counters["unet_held_peak_MiB"] = core::GetCpuCacheStats().peak_held_bytes / 1048576.0;
    // The decode runs once: a pipeline lets the allocator cache only below
    // the live peak so far (for its own thread's blocks), handing the UNet
    // loop's extra blocks back.
    core::ResetPeakCpuAllocated();
    start = std::chrono::steady_clock::now();
    torch::Tensor image;
    {
      core::ScopedCpuCacheHeadroom decode_headroom(0);
      image = vae->Decode(noise.narrow(0, 1, 1)).value();
    }
    state.counters["vae_decode_s"] = SecondsSince(start);
    state.counters["after_vae_MiB"] = bench::PeakRssMiB();
    state.counters["vae_tensors_peak_MiB"] = core::GetCpuCacheStats().peak_allocated_bytes / 1048576.0;
    state.counters["vae_held_peak_MiB"] = core::GetCpuCacheStats().peak_held_bytes / 1048576.0;
    benchmark::DoNotOptimize(image.data_ptr());
  }
}
BENCHMARK(BM_Sd15Txt2ImgPeakRss)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace dreamshot

// One DreamBooth-LoRA training step on the full-size Stable Diffusion 1.5
// UNet (random weights: timing does not depend on values), float32 on the
// CPU: batch 1 instance + 1 class example, rank-4 adapters on to_q, to_k,
// to_v and to_out.0, latents and text states given (as when they are
// cached), at 32×32 latents (256²) and 64×64 (512²), with and without
// gradient checkpointing. Forward (loss), backward (with clipping) and the
// AdamW step are timed apart, after one untimed warm-up step:
//   bazel run -c opt //bench:train_step_benchmark -- --benchmark_filter='/32/'
// The 512² runs need ~18 GB without gradient checkpointing (every fp32
// attention-probability matrix is kept for backward, as PyTorch eager keeps
// it); issue 17's memory-efficient attention backward is what will change
// that, and a stock-LibTorch comparison path belongs with it.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>

#include "bench/torch_bench_main.h"
#include "core/device.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/lora/adaptable_modules.h"
#include "models/unet/unet_2d_condition.h"
#include "trainer/dreambooth_step.h"
#include "trainer/trainable_lora.h"

namespace dreamshot::trainer {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from) { return std::chrono::duration<double>(Clock::now() - from).count(); }

void BM_DreamBoothLoraStep(benchmark::State& state) {
  const int64_t latent = state.range(0);
  const bool checkpointing = state.range(1) != 0;
  auto unet = models::unet::UNet2DConditionModel::Create(models::unet::UNetConfig{}, core::DeviceSpec{});
  if (!unet.ok()) {
    state.SkipWithError(std::string(unet.status().message()).c_str());
    return;
  }
  (*unet)->SetGradientCheckpointing(checkpointing);
  FreezeParameters((*unet)->module());
  auto modules = models::lora::AdaptableModules::Index((*unet)->module(), models::lora::LoraComponent::kUNet);
  auto lora = TrainableLora::Attach(*modules, LoraTrainingOptions{}, at::detail::createCPUGenerator(0));
  if (!lora.ok()) {
    state.SkipWithError(std::string(lora.status().message()).c_str());
    return;
  }
  // SD 1.5's scheduler config: the scaled-linear betas DDPM trains with.
  auto config = core::JsonConfig::FromString(
      R"({"_class_name": "DDPMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
          "num_train_timesteps": 1000, "prediction_type": "epsilon"})",
      "sd15 scheduler");
  auto scheduler = diffusion::CreateScheduler(diffusion::SchedulerChoice{"ddpm"}, *config);
  const std::vector<at::Tensor> params = (*lora)->parameters();
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-4));
  at::Generator g = at::detail::createCPUGenerator(1);
  DreamBoothBatch batch;
  batch.latents = torch::randn({2, 4, latent, latent}, g);
  batch.encoder_hidden_states = torch::randn({2, 77, 768}, g);
  batch.noise = torch::randn({2, 4, latent, latent}, g);
  batch.timesteps = torch::randint(0, 1000, {2}, g, torch::kLong);
  const DreamBoothOptions options;
  double forward = 0, backward = 0, step = 0;
  auto one_step = [&](bool timed) -> bool {
    Clock::time_point t = Clock::now();
    auto loss = ComputeDreamBoothLoss(**unet, **scheduler, batch, options);
    if (!loss.ok()) {
      state.SkipWithError(std::string(loss.status().message()).c_str());
      return false;
    }
    const double f = Seconds(t);
    t = Clock::now();
    BackwardAndClip(loss->loss, params, options.max_grad_norm);
    const double b = Seconds(t);
    t = Clock::now();
    optimizer.step();
    optimizer.zero_grad();
    if (timed) forward += f, backward += b, step += Seconds(t);
    return true;
  };
  if (!one_step(false)) return;  // warm-up: oneDNN kernels, allocator cache
  int64_t n = 0;
  for (auto _ : state) {
    if (!one_step(true)) break;
    ++n;
  }
  if (n > 0) {
    state.counters["forward_s"] = forward / n;
    state.counters["backward_s"] = backward / n;
    state.counters["optimizer_s"] = step / n;
  }
  state.counters["threads"] = torch::get_num_threads();
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
}
BENCHMARK(BM_DreamBoothLoraStep)
    ->Args({32, 0})
    ->Args({32, 1})
    ->Args({64, 0})
    ->Args({64, 1})
    ->Iterations(2)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace dreamshot::trainer

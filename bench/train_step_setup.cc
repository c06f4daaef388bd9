#include "bench/train_step_setup.h"

#include <sys/resource.h>

#include <chrono>
#include <utility>

#include "core/caching_cpu_allocator.h"
#include "core/device.h"
#include "core/json_config.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/attention/attention.h"

namespace dreamshot::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from) { return std::chrono::duration<double>(Clock::now() - from).count(); }

// Process CPU time and minor faults so far: a step's are differences.
struct ProcessUsage {
  double cpu = 0, system = 0, page_faults = 0;

  static ProcessUsage Now() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
    return {s(usage.ru_utime) + s(usage.ru_stime), s(usage.ru_stime), static_cast<double>(usage.ru_minflt)};
  }
  void SetSince(const ProcessUsage& start, StepTimes& times) const {
    times.cpu = cpu - start.cpu;
    times.system = system - start.system;
    times.page_faults = page_faults - start.page_faults;
  }
};

}  // namespace

const char* TrainPathName(TrainPath path) {
  switch (path) {
    case TrainPath::kOurs:
      return "ours";
    case TrainPath::kStock:
      return "stock";
    case TrainPath::kFloor:
      return "floor";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<TrainStepSetup>> TrainStepSetup::Create(int64_t latent, bool gradient_checkpointing) {
  auto setup = std::unique_ptr<TrainStepSetup>(new TrainStepSetup());
  ASSIGN_OR_RETURN(setup->unet_,
                   models::unet::UNet2DConditionModel::Create(models::unet::UNetConfig{}, core::DeviceSpec{}));
  setup->checkpointing_ = gradient_checkpointing;
  trainer::FreezeParameters(setup->unet_->module());
  ASSIGN_OR_RETURN(models::lora::AdaptableModules modules,
                   models::lora::AdaptableModules::Index(setup->unet_->module(), models::lora::LoraComponent::kUNet));
  setup->modules_ = std::make_unique<models::lora::AdaptableModules>(std::move(modules));
  RETURN_IF_ERROR(setup->AttachLora());
  // SD 1.5's scheduler config: the scaled-linear betas DDPM trains with.
  ASSIGN_OR_RETURN(core::JsonConfig config,
                   core::JsonConfig::FromString(
                       R"({"_class_name": "DDPMScheduler", "beta_start": 0.00085, "beta_end": 0.012,
                           "beta_schedule": "scaled_linear", "num_train_timesteps": 1000,
                           "prediction_type": "epsilon"})",
                       "sd15 scheduler"));
  ASSIGN_OR_RETURN(setup->scheduler_, diffusion::CreateScheduler(diffusion::SchedulerChoice{"ddpm"}, config));
  at::Generator g = at::detail::createCPUGenerator(1);
  trainer::DreamBoothBatch& batch = setup->batch_;
  batch.latents = torch::randn({2, 4, latent, latent}, g);
  batch.encoder_hidden_states = torch::randn({2, 77, 768}, g);
  batch.noise = torch::randn({2, 4, latent, latent}, g);
  batch.timesteps = torch::randint(0, 1000, {2}, g, torch::kLong);
  return setup;
}

absl::StatusOr<StepTimes> TrainStepSetup::Step(TrainPath path) {
  if (path == TrainPath::kFloor) return FloorStep();
  if (path == TrainPath::kStock) return StockStep();
  return LoraStep(path);
}

absl::StatusOr<StepTimes> TrainStepSetup::StockStep() {
  const int64_t cached = core::GetCpuCacheStats().cached_bytes;
  core::ReleaseCachedCpuMemory();
  absl::StatusOr<StepTimes> times;
  {
    core::ScopedStockCpuAllocator stock_allocator;
    times = LoraStep(TrainPath::kStock);
  }
  // Freed at once, the block goes back to the cache as resident pages.
  if (cached > 0) torch::empty({cached}, torch::kUInt8).zero_();
  return times;
}

absl::StatusOr<StepTimes> TrainStepSetup::LoraStep(TrainPath path) {
  models::SetAttentionAutogradForComparison(path == TrainPath::kOurs ? models::AttentionAutograd::kMemoryEfficient
                                                                     : models::AttentionAutograd::kStock);
  unet_->SetGradientCheckpointing(checkpointing_);
  StepTimes times;
  const ProcessUsage usage = ProcessUsage::Now();
  Clock::time_point t = Clock::now();
  ASSIGN_OR_RETURN(trainer::DreamBoothLoss loss, ComputeDreamBoothLoss(*unet_, *scheduler_, batch_, options_));
  times.forward = Seconds(t);
  t = Clock::now();
  trainer::BackwardAndClip(loss.loss, params_, options_.max_grad_norm);
  times.backward = Seconds(t);
  t = Clock::now();
  optimizer_->step();
  optimizer_->zero_grad();
  times.optimizer = Seconds(t);
  ProcessUsage::Now().SetSince(usage, times);
  return times;
}

absl::Status TrainStepSetup::AttachLora() {
  ASSIGN_OR_RETURN(lora_, trainer::TrainableLora::Attach(*modules_, trainer::LoraTrainingOptions{},
                                                         at::detail::createCPUGenerator(0)));
  if (!adapter_values_.empty()) RETURN_IF_ERROR(lora_->Load(adapter_values_));
  params_ = lora_->parameters();
  // A fresh optimizer for the re-attached tensors: AdamW's cost does not
  // depend on how many steps its moments have seen.
  optimizer_ = std::make_unique<torch::optim::AdamW>(params_, torch::optim::AdamWOptions(1e-4));
  return absl::OkStatus();
}

// Detaches the adapter (keeping its values), steps with only the input
// latents requiring grad, and re-attaches it.
absl::StatusOr<StepTimes> TrainStepSetup::FloorStep() {
  adapter_values_.clear();
  for (const auto& [name, p] : lora_->named_parameters()) adapter_values_[name] = p.detach().clone();
  optimizer_.reset();
  params_.clear();
  lora_.reset();
  models::SetAttentionAutogradForComparison(models::AttentionAutograd::kMemoryEfficient);
  unet_->SetGradientCheckpointing(false);
  trainer::DreamBoothBatch batch = batch_;
  batch.latents = batch_.latents.clone().requires_grad_(true);
  StepTimes times;
  const ProcessUsage usage = ProcessUsage::Now();
  Clock::time_point t = Clock::now();
  absl::StatusOr<trainer::DreamBoothLoss> loss = ComputeDreamBoothLoss(*unet_, *scheduler_, batch, options_);
  if (loss.ok()) {
    times.forward = Seconds(t);
    t = Clock::now();
    loss->loss.backward();
    times.backward = Seconds(t);
    ProcessUsage::Now().SetSince(usage, times);
  }
  RETURN_IF_ERROR(AttachLora());
  if (!loss.ok()) return loss.status();
  return times;
}

}  // namespace dreamshot::bench

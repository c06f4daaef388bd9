#include "trainer/training_loop.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/caching_cpu_allocator.h"
#include "core/status_macros.h"
#include "trainer/text_conditioning.h"
#include "trainer/training_checkpoint.h"

namespace dreamshot::trainer {
namespace {

using Clock = std::chrono::steady_clock;

// Gradient checkpointing on the UNet for one run, restored afterwards.
class UNetCheckpointing {
 public:
  UNetCheckpointing(models::unet::UNet2DConditionModel& unet, bool enabled)
      : unet_(unet), before_(unet.gradient_checkpointing()) {
    unet_.SetGradientCheckpointing(enabled);
  }
  ~UNetCheckpointing() { unet_.SetGradientCheckpointing(before_); }
  UNetCheckpointing(const UNetCheckpointing&) = delete;
  UNetCheckpointing& operator=(const UNetCheckpointing&) = delete;

 private:
  models::unet::UNet2DConditionModel& unet_;
  bool before_;
};

absl::Status CheckModels(const TrainingModels& m) {
  if (m.unet == nullptr || m.unet_lora == nullptr) {
    return absl::InvalidArgumentError("training needs a UNet and its adapter");
  }
  if (m.unet_lora->component() != models::lora::LoraComponent::kUNet) {
    return absl::InvalidArgumentError("unet_lora is not attached to a UNet");
  }
  if (m.text_lora != nullptr) {
    if (m.text_encoder == nullptr) {
      return absl::InvalidArgumentError("a text-encoder adapter needs the text encoder it is attached to");
    }
    if (m.text_lora->component() != models::lora::LoraComponent::kTextEncoder) {
      return absl::InvalidArgumentError("text_lora is not attached to a text encoder");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckOptions(const TrainingData& data, const TrainingLoopOptions& o) {
  if (data.instance.empty()) return absl::InvalidArgumentError("no instance examples to train on");
  if (o.step.with_prior_preservation && data.prior.empty()) {
    return absl::InvalidArgumentError("prior preservation needs class examples, and there are none");
  }
  if (o.max_steps <= 0) return absl::InvalidArgumentError(absl::StrCat("max_train_steps must be positive, got ", o.max_steps));
  if (o.batch_size <= 0) return absl::InvalidArgumentError(absl::StrCat("train_batch_size must be positive, got ", o.batch_size));
  if (o.gradient_accumulation <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("gradient_accumulation_steps must be positive, got ", o.gradient_accumulation));
  }
  RETURN_IF_ERROR(ValidateDreamBoothOptions(o.step));
  if (o.checkpoint_every < 0) {
    return absl::InvalidArgumentError(absl::StrCat("checkpointing_steps must not be negative, got ", o.checkpoint_every));
  }
  return absl::OkStatus();
}

// Micro-batch `micro` (0-based over the whole run): instance examples
// first, then as many class examples.
absl::StatusOr<DreamBoothBatch> MakeBatch(const TrainingData& data, const TrainingModels& models,
                                          const TrainingLoopOptions& o, int64_t micro, int64_t train_timesteps,
                                          DataOrder& order, at::Generator& generator) {
  std::vector<const EncodedExample*> examples;
  for (int64_t i = 0; i < o.batch_size; ++i) {
    const int64_t position = micro * o.batch_size + i;
    examples.push_back(&data.instance[order.IndexAt(position)]);
  }
  if (o.step.with_prior_preservation) {
    const int64_t m = static_cast<int64_t>(data.prior.size());
    for (int64_t i = 0; i < o.batch_size; ++i) examples.push_back(&data.prior[(micro * o.batch_size + i) % m]);
  }
  std::vector<at::Tensor> latents;
  for (const EncodedExample* e : examples) latents.push_back(e->latents);
  DreamBoothBatch batch;
  batch.latents = torch::stack(latents);
  ASSIGN_OR_RETURN(batch.encoder_hidden_states,
                   BatchTextStates(examples, models.text_encoder, models.text_lora != nullptr));
  ASSIGN_OR_RETURN(TrainingNoise drawn,
                   DrawTrainingNoise(batch.latents, train_timesteps, o.step.noise_offset, generator));
  batch.noise = std::move(drawn.noise);
  batch.timesteps = std::move(drawn.timesteps);
  return batch;
}

}  // namespace

int64_t DataOrder::IndexAt(int64_t position) {
  const int64_t epoch = position / count_;
  if (epoch != epoch_) {
    at::Generator shuffle = at::detail::createCPUGenerator(seed_ * 1000003u + static_cast<uint64_t>(epoch));
    const at::Tensor permutation = torch::randperm(count_, shuffle, torch::kLong);
    permutation_.assign(permutation.data_ptr<int64_t>(), permutation.data_ptr<int64_t>() + count_);
    epoch_ = epoch;
  }
  return permutation_[position % count_];
}

int64_t InstanceIndexAt(uint64_t seed, int64_t position, int64_t count) {
  return DataOrder(seed, count).IndexAt(position);
}

absl::StatusOr<TrainingSummary> RunTrainingLoop(models::unet::UNet2DConditionModel& unet,
                                                const diffusion::Scheduler& scheduler, TrainableLora& lora,
                                                const TrainingData& data, const TrainingLoopOptions& options,
                                                const std::function<void(const StepReport&)>& on_step,
                                                const core::CancelFlag* cancel) {
  TrainingModels models;
  models.unet = &unet;
  models.unet_lora = &lora;
  return RunTrainingLoop(models, scheduler, data, options, on_step, cancel);
}

absl::StatusOr<TrainingSummary> RunTrainingLoop(const TrainingModels& models, const diffusion::Scheduler& scheduler,
                                                const TrainingData& data, const TrainingLoopOptions& options,
                                                const std::function<void(const StepReport&)>& on_step,
                                                const core::CancelFlag* cancel,
                                                const core::CancelFlag* finish_early) {
  RETURN_IF_ERROR(CheckModels(models));
  RETURN_IF_ERROR(CheckOptions(data, options));
  RETURN_IF_ERROR(CheckExamplePrompts(data, models.text_encoder, models.text_lora != nullptr));
  torch::AutoGradMode grad_mode(true);  // a caller's NoGradGuard would break backward
  // Every step frees and re-allocates the same working set: keep its pages
  // resident rather than faulting them in again each forward.
  const core::ScopedCpuCacheBound keep_working_set(core::kCacheEverything);
  models::unet::UNet2DConditionModel& unet = *models.unet;
  TrainableLora& lora = *models.unet_lora;
  const UNetCheckpointing checkpointing(unet, options.gradient_checkpointing);
  LrScheduleOptions lr_options = options.lr;
  lr_options.total_steps = options.max_steps;
  ASSIGN_OR_RETURN(LrSchedule schedule, LrSchedule::Create(lr_options));
  // One optimizer over the union, the UNet's adapter first, as upstream.
  std::vector<at::Tensor> params = lora.parameters();
  if (models.text_lora != nullptr) {
    for (const at::Tensor& p : models.text_lora->parameters()) params.push_back(p);
  }
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(lr_options.base_lr)
                                            .betas({options.adamw.beta1, options.adamw.beta2})
                                            .eps(options.adamw.eps)
                                            .weight_decay(options.adamw.weight_decay));
  at::Generator generator = at::detail::createCPUGenerator(options.seed);
  TrainingSummary summary;
  if (options.resume && !options.checkpoint_path.empty() && std::filesystem::exists(options.checkpoint_path)) {
    ASSIGN_OR_RETURN(summary.resumed_from, LoadTrainingCheckpoint(options.checkpoint_path, lora, optimizer,
                                                                  generator, options.identity, models.text_lora));
  }
  auto checkpoint = [&](int64_t step) -> absl::Status {
    if (options.checkpoint_path.empty()) return absl::OkStatus();
    return SaveTrainingCheckpoint(options.checkpoint_path, lora, optimizer, step, generator, options.identity,
                                  models.text_lora);
  };
  const double micro_scale = 1.0 / static_cast<double>(options.gradient_accumulation);
  DataOrder order(options.seed, static_cast<int64_t>(data.instance.size()));
  for (int64_t step = summary.resumed_from; step < options.max_steps; ++step) {
    if (cancel != nullptr && cancel->cancelled()) {
      RETURN_IF_ERROR(checkpoint(step));
      return absl::CancelledError(absl::StrCat("training stopped at step ", step, " of ", options.max_steps));
    }
    if (finish_early != nullptr && finish_early->cancelled()) {
      RETURN_IF_ERROR(checkpoint(step));
      summary.steps = step;
      summary.finished_early = true;
      return summary;
    }
    const Clock::time_point start = Clock::now();
    schedule.Apply(optimizer, step);
    StepReport report;
    report.step = step + 1;
    report.max_steps = options.max_steps;
    report.learning_rate = schedule.LearningRate(step);
    for (int64_t k = 0; k < options.gradient_accumulation; ++k) {
      const int64_t micro = step * options.gradient_accumulation + k;
      ASSIGN_OR_RETURN(const DreamBoothBatch batch,
                       MakeBatch(data, models, options, micro, scheduler.config().num_train_timesteps, order,
                                 generator));
      ASSIGN_OR_RETURN(DreamBoothLoss loss, ComputeDreamBoothLoss(unet, scheduler, batch, options.step));
      report.loss += loss.loss.item<double>() * micro_scale;
      report.instance_loss += loss.instance_loss.item<double>() * micro_scale;
      report.prior_loss += loss.prior_loss.item<double>() * micro_scale;
      const bool last = k + 1 == options.gradient_accumulation;
      // As accelerate does: each micro-batch's loss is scaled by 1/k and
      // gradients add up; they are clipped once, before the step.
      if (last) {
        report.grad_norm = BackwardAndClip(loss.loss * micro_scale, params, options.step.max_grad_norm);
      } else {
        (loss.loss * micro_scale).backward();
      }
    }
    optimizer.step();
    optimizer.zero_grad();
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    summary.reports.push_back(report);
    summary.steps = step + 1;
    if (on_step) on_step(report);
    if (options.checkpoint_every > 0 && (step + 1) % options.checkpoint_every == 0 && step + 1 < options.max_steps) {
      RETURN_IF_ERROR(checkpoint(step + 1));
    }
  }
  summary.steps = options.max_steps;
  RETURN_IF_ERROR(checkpoint(options.max_steps));
  return summary;
}

}  // namespace dreamshot::trainer

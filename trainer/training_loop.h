// The DreamBooth-LoRA training loop over examples already encoded (VAE
// latents × scaling factor, and text-encoder states or the prompt's token
// ids): batches drawn in a seeded order, noise and timesteps from a seeded
// generator, gradient accumulation, the learning-rate schedule, a
// checkpoint every N optimizer steps and at the end, resume from a
// checkpoint, progress and cancel; optionally a text-encoder adapter
// trained alongside the UNet's.
//
// Data order: the instance examples are shuffled once per epoch with a
// generator seeded from (seed, epoch), so the example at any position is a
// function of the seed and the position, and a resumed run reads on where
// it stopped without storing an order. Class examples pair with instance
// positions as diffusers' DreamBoothDataset pairs them (position mod the
// class count). Noise and timesteps come from the run's generator, whose
// state is in every checkpoint: a resumed run ends bit-identical to an
// uninterrupted one. Each micro-batch draws, in order: its noise, the
// offset noise when noise_offset ≠ 0, its timesteps (DrawTrainingNoise).
//
// Text-encoder LoRA (TrainingModels::text_lora, train_dreambooth_lora.py's
// --train_text_encoder): the text states of a micro-batch are computed by
// the text encoder from the examples' token ids with grad, in one call for
// the instance then class prompts, as upstream encodes batch["input_ids"];
// cached states cannot be used, as the encoder changes every step. Both
// adapters' parameters go to one AdamW with one learning rate (upstream has
// no separate text-encoder rate in this script), the UNet's first, then the
// text encoder's (each in peft-key order; upstream's module order differs
// only in the order the gradient norm sums them); gradients are clipped
// together; checkpoints hold both adapters.
#ifndef DREAMSHOT_TRAINER_TRAINING_LOOP_H_
#define DREAMSHOT_TRAINER_TRAINING_LOOP_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cancel_flag.h"
#include "diffusion/schedulers/scheduler.h"
#include "models/clip/text_model.h"
#include "models/unet/unet_2d_condition.h"
#include "trainer/dreambooth_step.h"
#include "trainer/lr_schedule.h"
#include "trainer/training_data.h"
#include "trainer/trainable_lora.h"

namespace dreamshot::trainer {

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
};

struct TrainingLoopOptions {
  int64_t max_steps = 100;            // optimizer steps
  int64_t batch_size = 1;             // instance examples per micro-batch (as many class examples join them)
  int64_t gradient_accumulation = 1;  // micro-batches per optimizer step
  uint64_t seed = 0;
  LrScheduleOptions lr;  // total_steps is set to max_steps
  AdamWSettings adamw;
  DreamBoothOptions step;
  // Checkpoints: every `checkpoint_every` optimizer steps (0: only at the
  // end) to `checkpoint_path` (empty: none), each replacing the last.
  int64_t checkpoint_every = 0;
  std::string checkpoint_path;
  // What a resume must match (base-model hash, targets, ...).
  std::map<std::string, std::string> identity;
  // Resume from `checkpoint_path` when it exists.
  bool resume = true;
  // Recompute the UNet's resnet and transformer blocks in backward instead
  // of keeping their activations (train_dreambooth_lora.py's
  // --gradient_checkpointing): less memory, a slower backward, the same
  // gradients up to float rounding. Set on the UNet for the run and put
  // back as it was when the loop returns. The text encoder is never
  // checkpointed.
  bool gradient_checkpointing = false;
};

struct StepReport {
  int64_t step = 0;  // optimizer steps done
  int64_t max_steps = 0;
  double loss = 0, instance_loss = 0, prior_loss = 0;  // averaged over the micro-batches
  double grad_norm = 0;  // before clipping
  double learning_rate = 0;
  double seconds = 0;  // this step's wall time
};

struct TrainingSummary {
  int64_t resumed_from = 0;  // the step a checkpoint gave (0: a fresh start)
  int64_t steps = 0;         // optimizer steps done in all
  bool finished_early = false;  // `finish_early` ended it before max_steps
  std::vector<StepReport> reports;  // this call's steps
};

// The networks of a run. `text_encoder` is needed when examples carry token
// ids instead of text states; `text_lora` (attached to `text_encoder`'s
// projections, base weights frozen with FreezeParameters) trains it too.
struct TrainingModels {
  models::unet::UNet2DConditionModel* unet = nullptr;
  TrainableLora* unet_lora = nullptr;
  models::clip::ClipTextModel* text_encoder = nullptr;
  TrainableLora* text_lora = nullptr;
};

// Runs until max_steps, a cancel (CANCELLED, after writing a checkpoint)
// or an error. `on_step` sees every optimizer step. `finish_early`, polled
// where `cancel` is (before each step), ends the run as a completed one at
// the step it has reached (a checkpoint written, finished_early set): what
// a sweep's early-stop rule asks for, a shorter run rather than a failed
// one. INVALID_ARGUMENT before any step for bad options, an example without
// what its prompt needs (named by its index), or a text adapter without a
// text encoder.
absl::StatusOr<TrainingSummary> RunTrainingLoop(const TrainingModels& models, const diffusion::Scheduler& scheduler,
                                                const TrainingData& data, const TrainingLoopOptions& options,
                                                const std::function<void(const StepReport&)>& on_step,
                                                const core::CancelFlag* cancel = nullptr,
                                                const core::CancelFlag* finish_early = nullptr);

// The UNet adapter alone, over examples with cached text states.
absl::StatusOr<TrainingSummary> RunTrainingLoop(models::unet::UNet2DConditionModel& unet,
                                                const diffusion::Scheduler& scheduler, TrainableLora& lora,
                                                const TrainingData& data, const TrainingLoopOptions& options,
                                                const std::function<void(const StepReport&)>& on_step,
                                                const core::CancelFlag* cancel = nullptr);

// The instance example at data position `position` (see the header
// comment). The permutation of the epoch in hand is kept, so reading
// positions in order costs one shuffle per epoch, not one per example.
class DataOrder {
 public:
  DataOrder(uint64_t seed, int64_t count) : seed_(seed), count_(count) {}
  int64_t IndexAt(int64_t position);

 private:
  uint64_t seed_;
  int64_t count_;
  int64_t epoch_ = -1;
  std::vector<int64_t> permutation_;
};

// DataOrder(seed, count).IndexAt(position), for one look-up.
int64_t InstanceIndexAt(uint64_t seed, int64_t position, int64_t count);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_TRAINING_LOOP_H_

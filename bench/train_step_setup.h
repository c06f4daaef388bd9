// The DreamBooth-LoRA training step that //bench:train_step_benchmark times
// and //bench:train_step_profile profiles: the full-size SD 1.5 UNet (random
// weights: timing does not depend on values), float32 on the CPU, batch 1
// instance + 1 class example, rank-4 adapters on to_q, to_k, to_v and
// to_out.0, latents and text states given (as when they are cached).
//
// One network, three paths:
//  - kOurs: attention through the memory-efficient autograd Function
//    (models/attention/attention_autograd.h);
//  - kStock: what PyTorch eager and diffusers run: attention through ATen
//    matmul + softmax with the probabilities saved for backward, and
//    LibTorch's own CPU allocator (core::ScopedStockCpuAllocator). Our
//    allocator's cache is handed back before its step (at 512² both would
//    not fit in 24 GB) and faulted in again after it, untimed, so the next
//    path starts where a training loop's next step would;
//  - kFloor: no LoRA at all, forward + backward for the gradient of the
//    input latents only (our attention, no checkpointing): what any step
//    that back-propagates through the frozen UNet must cost.
#ifndef DREAMSHOT_BENCH_TRAIN_STEP_SETUP_H_
#define DREAMSHOT_BENCH_TRAIN_STEP_SETUP_H_

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/caching_cpu_allocator.h"
#include "diffusion/schedulers/scheduler.h"
#include "models/lora/adaptable_modules.h"
#include "models/unet/unet_2d_condition.h"
#include "trainer/dreambooth_step.h"
#include "trainer/trainable_lora.h"

namespace dreamshot::bench {

struct StepTimes {
  double forward = 0, backward = 0, optimizer = 0;  // wall seconds
  double cpu = 0;                                   // process CPU seconds, user + system
  double system = 0;                                // of which system (kernel) seconds
  double page_faults = 0;                           // minor page faults of the process
  double total() const { return forward + backward + optimizer; }
};

enum class TrainPath { kOurs, kStock, kFloor };
inline constexpr TrainPath kTrainPaths[] = {TrainPath::kOurs, TrainPath::kStock, TrainPath::kFloor};
const char* TrainPathName(TrainPath path);

class TrainStepSetup {
 public:
  // `latent`: latent edge (32 for 256², 64 for 512²).
  static absl::StatusOr<std::unique_ptr<TrainStepSetup>> Create(int64_t latent, bool gradient_checkpointing);

  // One step of `path`: loss, backward (+ clipping), AdamW and zero_grad.
  absl::StatusOr<StepTimes> Step(TrainPath path);

 private:
  TrainStepSetup() = default;
  absl::StatusOr<StepTimes> LoraStep(TrainPath path);
  absl::StatusOr<StepTimes> StockStep();
  absl::Status AttachLora();
  absl::StatusOr<StepTimes> FloorStep();

  // As trainer::RunTrainingLoop does for its steps.
  core::ScopedCpuCacheBound keep_working_set_{core::kCacheEverything};
  std::unique_ptr<models::unet::UNet2DConditionModel> unet_;
  bool checkpointing_ = false;
  std::unique_ptr<models::lora::AdaptableModules> modules_;
  std::unique_ptr<trainer::TrainableLora> lora_;
  std::map<std::string, at::Tensor> adapter_values_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<diffusion::Scheduler> scheduler_;
  trainer::DreamBoothBatch batch_;
  const trainer::DreamBoothOptions options_;
};

}  // namespace dreamshot::bench

#endif  // DREAMSHOT_BENCH_TRAIN_STEP_SETUP_H_

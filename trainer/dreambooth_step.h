// One DreamBooth optimisation step with prior preservation, as diffusers'
// examples/dreambooth/train_dreambooth_lora.py (v0.25.1) takes it:
//   noisy  = scheduler.add_noise(latents, noise, t)
//   pred   = unet(noisy, t, text embeddings)
//   target = noise (epsilon) or the velocity (v-prediction), per the
//            scheduler config
//   loss   = mse(pred_instance, target_instance)
//            + prior_loss_weight · mse(pred_class, target_class)
// then backward, clip_grad_norm_ over the adapter parameters (the norm
// before clipping is reported; gradients are scaled by
// max_norm / (norm + 1e-6) when that is below 1), the optimizer step and
// zero_grad. The batch holds the instance examples first and the class
// examples second, as the reference script concatenates them.
#ifndef DREAMSHOT_TRAINER_DREAMBOOTH_STEP_H_
#define DREAMSHOT_TRAINER_DREAMBOOTH_STEP_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "absl/status/statusor.h"
#include "diffusion/schedulers/scheduler.h"
#include "models/unet/unet_2d_condition.h"

namespace torch::optim {
class Optimizer;
}

namespace dreamshot::trainer {

struct DreamBoothBatch {
  at::Tensor latents;                // [N, 4, h, w], VAE latents × scaling_factor
  at::Tensor encoder_hidden_states;  // [N, 77, D], text-encoder output
  at::Tensor noise;                  // [N, 4, h, w]
  at::Tensor timesteps;              // [N] int64
};

struct DreamBoothOptions {
  // The second half of the batch are class (prior) examples.
  bool with_prior_preservation = true;
  double prior_loss_weight = 1.0;
  double max_grad_norm = 1.0;  // ≤ 0: no clipping
};

// The forward half: losses (autograd-connected) and what the step saw.
struct DreamBoothLoss {
  at::Tensor loss;           // 0-dim
  at::Tensor instance_loss;  // 0-dim
  at::Tensor prior_loss;     // 0-dim; 0 without prior preservation
  at::Tensor noisy;          // [N, 4, h, w]
  at::Tensor model_pred;     // [N, 4, h, w]
};

absl::StatusOr<DreamBoothLoss> ComputeDreamBoothLoss(models::unet::UNet2DConditionModel& unet,
                                                     const diffusion::Scheduler& scheduler,
                                                     const DreamBoothBatch& batch, const DreamBoothOptions& options);

// backward of `loss` and clipping of the gradients of `params`; returns the
// total L2 norm of the gradients before clipping.
double BackwardAndClip(const at::Tensor& loss, const std::vector<at::Tensor>& params, double max_grad_norm);

struct DreamBoothStepStats {
  double loss = 0, instance_loss = 0, prior_loss = 0;
  double grad_norm = 0;  // before clipping
};

// A whole step: loss, backward, clip, optimizer step, zero_grad.
absl::StatusOr<DreamBoothStepStats> DreamBoothStep(models::unet::UNet2DConditionModel& unet,
                                                   const diffusion::Scheduler& scheduler,
                                                   const std::vector<at::Tensor>& params,
                                                   torch::optim::Optimizer& optimizer, const DreamBoothBatch& batch,
                                                   const DreamBoothOptions& options);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_DREAMBOOTH_STEP_H_

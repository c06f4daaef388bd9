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
//
// Two options train_dreambooth_lora.py (v0.25.1) does not have come from
// its sibling scripts of the same release (examples/dreambooth/
// train_dreambooth.py, examples/text_to_image/train_text_to_image_lora.py);
// both are off by default, and off they change nothing, not a bit:
//
// Min-SNR weighting (snr_gamma > 0; Hang et al. 2023, arXiv:2303.09556).
//   SNR(t) = (sqrt(ᾱ_t) / sqrt(1 − ᾱ_t))², in float32 from the scheduler's
//   alphas_cumprod, as diffusers.training_utils.compute_snr computes it.
//   Per example:  w = min(SNR, γ) / SNR                 epsilon (and sample)
//                 w = min(SNR, γ) / SNR + 1             v-prediction, kDreamBooth
//                 w = min(SNR, γ) / (SNR + 1)           v-prediction, kPaper
//   instance_loss = mean_i( w_i · mean_{c,h,w}((pred_i − target_i)²) )
//   i.e. mse(reduction = none) → mean over the non-batch dimensions → × w →
//   mean, as upstream. With prior preservation only the instance half is
//   weighted, each instance example with the SNR of its own timestep; the
//   prior loss stays the plain mean MSE, so
//   loss = instance_loss + prior_loss_weight · prior_loss is unchanged in
//   form. (train_dreambooth.py v0.25.1 weights only the instance loss too,
//   but takes the weights of the whole batch's timesteps, which fails to
//   broadcast for a batch > 1 and, for a batch of 1, averages the instance
//   and class weights; diffusers fixed that in the SDXL DreamBooth-LoRA
//   script (PR #6356) by taking the instance half's timesteps, as here.)
//
// Noise offset (noise_offset ≠ 0; crosslabs.org "diffusion with offset
//   noise"): noise = randn(N, C, h, w) + noise_offset · randn(N, C, 1, 1),
//   one offset per example and channel, broadcast over the pixels; the
//   target of an epsilon model is this noise. See DrawTrainingNoise for the
//   order of the draws.
#ifndef DREAMSHOT_TRAINER_DREAMBOOTH_STEP_H_
#define DREAMSHOT_TRAINER_DREAMBOOTH_STEP_H_

#include <ATen/core/Generator.h>
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
  // Min-SNR γ (the paper and diffusers recommend 5). 0: off, the instance
  // loss is the plain mean MSE. Negative or not finite: INVALID_ARGUMENT.
  double snr_gamma = 0;
  // The v-prediction weight, where diffusers' scripts disagree:
  //   kDreamBooth: min(SNR, γ)/SNR + 1, train_dreambooth.py v0.25.1 (the
  //                DreamBooth script of the reference release);
  //   kPaper:      min(SNR, γ)/(SNR + 1), the paper's, which
  //                train_text_to_image*.py adopted later (PR #6307).
  // Epsilon (and sample) models always use min(SNR, γ)/SNR.
  enum class VPredictionSnrWeight { kDreamBooth, kPaper };
  VPredictionSnrWeight v_prediction_snr_weight = VPredictionSnrWeight::kDreamBooth;
  // Offset-noise scale (upstream suggests 0.1). 0: off, and no offset is
  // drawn, so the generator's sequence is today's. Not finite:
  // INVALID_ARGUMENT. Used where the noise is drawn (DrawTrainingNoise);
  // the step itself takes the noise it is given.
  double noise_offset = 0;
};

// INVALID_ARGUMENT naming snr_gamma / noise_offset / prior_loss_weight when
// one is out of range.
absl::Status ValidateDreamBoothOptions(const DreamBoothOptions& options);

// What a step's forward process needs besides the latents.
struct TrainingNoise {
  at::Tensor noise;      // [N, C, h, w] float32
  at::Tensor timesteps;  // [N] int64 in [0, num_train_timesteps)
};

// Draws from `generator`, in this order (the order of train_dreambooth.py
// and train_text_to_image_lora.py, which matters for seeded runs):
//   1. noise     = randn(latents.sizes())
//   2. only if noise_offset ≠ 0: offset = randn(N, C, 1, 1);
//      noise += noise_offset · offset
//   3. timesteps = randint(0, num_train_timesteps, [N])
// Noise has the latents' shape and options. INVALID_ARGUMENT for
// num_train_timesteps ≤ 0 or a noise_offset that is not finite.
absl::StatusOr<TrainingNoise> DrawTrainingNoise(const at::Tensor& latents, int64_t num_train_timesteps,
                                                double noise_offset, at::Generator& generator);

// compute_snr: (sqrt(ᾱ_t) / sqrt(1 − ᾱ_t))² per timestep, [N] float32.
at::Tensor ComputeSnr(const diffusion::Scheduler& scheduler, const at::Tensor& timesteps);

// The per-example min-SNR loss weights [N] float32 for `timesteps` (see the
// top). FAILED_PRECONDITION naming the timestep when a weight is not finite
// (SNR 0: a zero-terminal-SNR schedule at its last timestep).
absl::StatusOr<at::Tensor> MinSnrWeights(const diffusion::Scheduler& scheduler, const at::Tensor& timesteps,
                                         const DreamBoothOptions& options);

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

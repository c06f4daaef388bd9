#include "trainer/dreambooth_step.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::trainer {
namespace {

// mse(reduction = none) → mean over every dimension but the batch → × w →
// mean, in upstream's order of operations.
at::Tensor WeightedMse(const at::Tensor& pred, const at::Tensor& target, const at::Tensor& weights) {
  const at::Tensor per_element = torch::mse_loss(pred, target, at::Reduction::None);
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < per_element.dim(); ++d) dims.push_back(d);
  return (per_element.mean(dims) * weights.to(per_element.device())).mean();
}

// The instance loss: plain mean MSE, or min-SNR weighted at `timesteps`.
absl::StatusOr<at::Tensor> InstanceLoss(const at::Tensor& pred, const at::Tensor& target, const at::Tensor& timesteps,
                                        const diffusion::Scheduler& scheduler, const DreamBoothOptions& options) {
  if (options.snr_gamma == 0) return torch::mse_loss(pred, target);
  ASSIGN_OR_RETURN(at::Tensor weights, MinSnrWeights(scheduler, timesteps, options));
  return WeightedMse(pred, target, weights);
}

}  // namespace

absl::Status ValidateDreamBoothOptions(const DreamBoothOptions& options) {
  if (!std::isfinite(options.snr_gamma) || options.snr_gamma < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("snr_gamma must be a finite number ≥ 0 (0 turns min-SNR weighting off), got ", options.snr_gamma));
  }
  if (!std::isfinite(options.noise_offset)) {
    return absl::InvalidArgumentError(
        absl::StrCat("noise_offset must be a finite number (0 turns it off), got ", options.noise_offset));
  }
  if (!std::isfinite(options.prior_loss_weight)) {
    return absl::InvalidArgumentError(
        absl::StrCat("prior_loss_weight must be a finite number, got ", options.prior_loss_weight));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingNoise> DrawTrainingNoise(const at::Tensor& latents, int64_t num_train_timesteps,
                                                double noise_offset, at::Generator& generator) {
  if (num_train_timesteps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("num_train_timesteps must be positive, got ", num_train_timesteps));
  }
  if (!std::isfinite(noise_offset)) {
    return absl::InvalidArgumentError(absl::StrCat("noise_offset must be a finite number, got ", noise_offset));
  }
  if (noise_offset != 0 && latents.dim() < 2) {
    return absl::InvalidArgumentError("noise offset needs latents of shape [N, C, ...]");
  }
  TrainingNoise out;
  out.noise = torch::randn(latents.sizes(), generator, latents.options());
  if (noise_offset != 0) {
    std::vector<int64_t> per_channel(latents.dim(), 1);
    per_channel[0] = latents.size(0);
    per_channel[1] = latents.size(1);
    out.noise += noise_offset * torch::randn(per_channel, generator, latents.options());
  }
  out.timesteps = torch::randint(0, num_train_timesteps, {latents.size(0)}, generator, torch::kLong);
  return out;
}

at::Tensor ComputeSnr(const diffusion::Scheduler& scheduler, const at::Tensor& timesteps) {
  const at::Tensor& alphas_cumprod = scheduler.schedule().alphas_cumprod;
  const at::Tensor index = timesteps.to(torch::kCPU, torch::kLong).reshape({-1});
  // As compute_snr: both roots in the schedule's float32, then the ratio squared.
  const at::Tensor alpha = alphas_cumprod.pow(0.5).index_select(0, index).to(torch::kFloat);
  const at::Tensor sigma = (1.0 - alphas_cumprod).pow(0.5).index_select(0, index).to(torch::kFloat);
  return (alpha / sigma).pow(2);
}

absl::StatusOr<at::Tensor> MinSnrWeights(const diffusion::Scheduler& scheduler, const at::Tensor& timesteps,
                                         const DreamBoothOptions& options) {
  RETURN_IF_ERROR(ValidateDreamBoothOptions(options));
  const at::Tensor snr = ComputeSnr(scheduler, timesteps);
  const at::Tensor clipped = torch::minimum(snr, torch::full_like(snr, options.snr_gamma));
  at::Tensor weights;
  const bool velocity = scheduler.config().prediction_type == diffusion::PredictionType::kVPrediction;
  if (!velocity) {
    weights = clipped / snr;
  } else if (options.v_prediction_snr_weight == DreamBoothOptions::VPredictionSnrWeight::kDreamBooth) {
    weights = clipped / snr + 1;
  } else {
    weights = clipped / (snr + 1);
  }
  const at::Tensor finite = torch::isfinite(weights);
  if (!finite.all().item<bool>()) {
    const int64_t bad = torch::nonzero(finite.logical_not())[0][0].item<int64_t>();
    return absl::FailedPreconditionError(
        absl::StrCat("min-SNR weighting is undefined at timestep ",
                     timesteps.reshape({-1})[bad].item<int64_t>(), " (SNR ", snr[bad].item<float>(),
                     "): the schedule reaches zero SNR; train without snr_gamma or with another schedule"));
  }
  return weights;
}

absl::StatusOr<DreamBoothLoss> ComputeDreamBoothLoss(models::unet::UNet2DConditionModel& unet,
                                                     const diffusion::Scheduler& scheduler,
                                                     const DreamBoothBatch& batch, const DreamBoothOptions& options) {
  const int64_t n = batch.latents.size(0);
  if (batch.noise.sizes() != batch.latents.sizes() || batch.timesteps.dim() != 1 || batch.timesteps.size(0) != n ||
      batch.encoder_hidden_states.size(0) != n) {
    return absl::InvalidArgumentError(absl::StrCat("a DreamBooth batch needs latents, noise, timesteps and text ",
                                                   "embeddings of one batch size, got ", n, " latents"));
  }
  RETURN_IF_ERROR(ValidateDreamBoothOptions(options));
  if (options.with_prior_preservation && n % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("with prior preservation a batch is instance then class examples, so even; got ", n));
  }
  DreamBoothLoss out;
  out.noisy = scheduler.AddNoise(batch.latents, batch.noise, batch.timesteps);
  ASSIGN_OR_RETURN(out.model_pred, unet.Forward(out.noisy, batch.timesteps, batch.encoder_hidden_states));
  const at::Tensor target = scheduler.TrainingTarget(batch.latents, batch.noise, batch.timesteps);
  const at::Tensor pred = out.model_pred.to(torch::kFloat);
  const at::Tensor want = target.to(torch::kFloat);
  if (options.with_prior_preservation) {
    const std::vector<at::Tensor> preds = pred.chunk(2, 0), targets = want.chunk(2, 0);
    ASSIGN_OR_RETURN(out.instance_loss, InstanceLoss(preds[0], targets[0], batch.timesteps.chunk(2, 0)[0], scheduler,
                                                     options));
    out.prior_loss = torch::mse_loss(preds[1], targets[1]);
    out.loss = out.instance_loss + options.prior_loss_weight * out.prior_loss;
  } else {
    ASSIGN_OR_RETURN(out.instance_loss, InstanceLoss(pred, want, batch.timesteps, scheduler, options));
    out.prior_loss = torch::zeros({}, pred.options());
    out.loss = out.instance_loss;
  }
  return out;
}

double BackwardAndClip(const at::Tensor& loss, const std::vector<at::Tensor>& params, double max_grad_norm) {
  loss.backward();
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return 0.0;
  // torch.nn.utils.clip_grad_norm_(norm_type=2): the norm of the per-tensor norms.
  std::vector<at::Tensor> norms;
  norms.reserve(grads.size());
  for (const at::Tensor& g : grads) norms.push_back(torch::linalg_vector_norm(g, 2));
  const at::Tensor total = torch::linalg_vector_norm(torch::stack(norms), 2);
  const double total_norm = total.item<double>();
  if (max_grad_norm > 0) {
    const at::Tensor coef = torch::clamp_max(max_grad_norm / (total + 1e-6), 1.0);
    torch::NoGradGuard no_grad;
    for (at::Tensor& g : grads) g.mul_(coef);
  }
  return total_norm;
}

absl::StatusOr<DreamBoothStepStats> DreamBoothStep(models::unet::UNet2DConditionModel& unet,
                                                   const diffusion::Scheduler& scheduler,
                                                   const std::vector<at::Tensor>& params,
                                                   torch::optim::Optimizer& optimizer, const DreamBoothBatch& batch,
                                                   const DreamBoothOptions& options) {
  ASSIGN_OR_RETURN(DreamBoothLoss loss, ComputeDreamBoothLoss(unet, scheduler, batch, options));
  DreamBoothStepStats stats;
  stats.loss = loss.loss.item<double>();
  stats.instance_loss = loss.instance_loss.item<double>();
  stats.prior_loss = loss.prior_loss.item<double>();
  stats.grad_norm = BackwardAndClip(loss.loss, params, options.max_grad_norm);
  optimizer.step();
  optimizer.zero_grad();
  return stats;
}

}  // namespace dreamshot::trainer

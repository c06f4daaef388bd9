#include "trainer/dreambooth_step.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::trainer {

absl::StatusOr<DreamBoothLoss> ComputeDreamBoothLoss(models::unet::UNet2DConditionModel& unet,
                                                     const diffusion::Scheduler& scheduler,
                                                     const DreamBoothBatch& batch, const DreamBoothOptions& options) {
  const int64_t n = batch.latents.size(0);
  if (batch.noise.sizes() != batch.latents.sizes() || batch.timesteps.dim() != 1 || batch.timesteps.size(0) != n ||
      batch.encoder_hidden_states.size(0) != n) {
    return absl::InvalidArgumentError(absl::StrCat("a DreamBooth batch needs latents, noise, timesteps and text ",
                                                   "embeddings of one batch size, got ", n, " latents"));
  }
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
    out.instance_loss = torch::mse_loss(preds[0], targets[0]);
    out.prior_loss = torch::mse_loss(preds[1], targets[1]);
    out.loss = out.instance_loss + options.prior_loss_weight * out.prior_loss;
  } else {
    out.instance_loss = torch::mse_loss(pred, want);
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

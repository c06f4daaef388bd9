#include "diffusion/schedulers/ddim.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {

absl::StatusOr<std::unique_ptr<DdimScheduler>> DdimScheduler::Create(const SchedulerConfig& config, double eta) {
  if (eta < 0) return absl::InvalidArgumentError(absl::StrCat("DDIM: eta must be ≥ 0, got ", eta));
  ASSIGN_OR_RETURN(NoiseSchedule schedule, NoiseSchedule::FromConfig(config));
  return std::unique_ptr<DdimScheduler>(new DdimScheduler(config, std::move(schedule), eta));
}

absl::Status DdimScheduler::SetTimesteps(int64_t num_inference_steps) {
  if (num_inference_steps < 1 || num_inference_steps > config_.num_train_timesteps) {
    return absl::InvalidArgumentError(absl::StrCat("DDIM: steps must be in [1, ", config_.num_train_timesteps,
                                                   "], got ", num_inference_steps));
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> spaced, SpacedTimesteps(config_, num_inference_steps));
  num_inference_steps_ = num_inference_steps;
  timesteps_ = torch::tensor(spaced, torch::kLong);
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> DdimScheduler::Step(const at::Tensor& model_output, int64_t step_index,
                                               const at::Tensor& sample, NoiseSource* noise_source) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  const int64_t t = timesteps_[step_index].item<int64_t>();
  const int64_t prev_t = t - config_.num_train_timesteps / num_inference_steps_;
  const double alpha_prod_t = AlphaCumprod(t), alpha_prod_prev = AlphaCumprod(prev_t);
  at::Tensor original, noise;
  PredictOriginalAndNoise(model_output, sample, alpha_prod_t, &original, &noise);
  // The direction term keeps the model's ε even when x0 is clipped
  // (upstream's default, use_clipped_model_output=False).
  if (config_.clip_sample) original = original.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  // σ_t(η) of eq. 16: η · sqrt((1-ᾱ_prev)/(1-ᾱ_t) · (1 - ᾱ_t/ᾱ_prev)).
  const double variance = (1 - alpha_prod_prev) / (1 - alpha_prod_t) * (1 - alpha_prod_t / alpha_prod_prev);
  const double std_dev = eta_ * std::sqrt(variance);
  const at::Tensor direction = std::sqrt(1 - alpha_prod_prev - std_dev * std_dev) * noise;
  at::Tensor prev = std::sqrt(alpha_prod_prev) * original + direction;
  if (eta_ > 0) prev = prev + std_dev * NoiseLike(model_output, noise_source);
  return prev;
}

}  // namespace dreamshot::diffusion

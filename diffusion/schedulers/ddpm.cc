#include "diffusion/schedulers/ddpm.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {

absl::StatusOr<std::unique_ptr<DdpmScheduler>> DdpmScheduler::Create(const SchedulerConfig& config) {
  ASSIGN_OR_RETURN(NoiseSchedule schedule, NoiseSchedule::FromConfig(config));
  return std::unique_ptr<DdpmScheduler>(new DdpmScheduler(config, std::move(schedule)));
}

absl::Status DdpmScheduler::SetTimesteps(int64_t num_inference_steps) {
  if (num_inference_steps < 1 || num_inference_steps > config_.num_train_timesteps) {
    return absl::InvalidArgumentError(absl::StrCat("DDPM: steps must be in [1, ", config_.num_train_timesteps,
                                                   "], got ", num_inference_steps));
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> spaced, SpacedTimesteps(config_, num_inference_steps));
  num_inference_steps_ = num_inference_steps;
  timesteps_ = torch::tensor(spaced, torch::kLong);
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> DdpmScheduler::Step(const at::Tensor& model_output, int64_t step_index,
                                               const at::Tensor& sample, NoiseSource* noise_source) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  const int64_t t = timesteps_[step_index].item<int64_t>();
  const int64_t prev_t = t - config_.num_train_timesteps / num_inference_steps_;
  const double a_t = AlphaCumprod(t);
  const double a_prev = prev_t >= 0 ? AlphaCumprod(prev_t) : 1.0;
  const double b_t = 1 - a_t, b_prev = 1 - a_prev;
  const double current_alpha = a_t / a_prev, current_beta = 1 - current_alpha;
  at::Tensor original, noise;
  PredictOriginalAndNoise(model_output, sample, a_t, &original, &noise);
  if (config_.clip_sample) original = original.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  // Posterior mean, eq. 7: coefficients of x0 and x_t.
  at::Tensor prev = (std::sqrt(a_prev) * current_beta / b_t) * original +
                    (std::sqrt(current_alpha) * b_prev / b_t) * sample;
  if (t > 0) {
    const double variance = std::max(b_prev / b_t * current_beta, 1e-20);  // fixed_small
    prev = prev + std::sqrt(variance) * NoiseLike(model_output, noise_source);
  }
  return prev;
}

}  // namespace dreamshot::diffusion

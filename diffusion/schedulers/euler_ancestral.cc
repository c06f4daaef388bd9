#include "diffusion/schedulers/euler_ancestral.h"

#include <torch/torch.h>

#include <cmath>

#include "core/status_macros.h"

namespace dreamshot::diffusion {

absl::StatusOr<std::unique_ptr<EulerAncestralScheduler>> EulerAncestralScheduler::Create(
    const SchedulerConfig& config) {
  RETURN_IF_ERROR(CheckPredictionType(config, "EulerAncestralDiscreteScheduler"));
  ASSIGN_OR_RETURN(NoiseSchedule schedule, NoiseSchedule::FromConfig(config));
  return std::unique_ptr<EulerAncestralScheduler>(new EulerAncestralScheduler(config, std::move(schedule)));
}

absl::StatusOr<at::Tensor> EulerAncestralScheduler::Step(const at::Tensor& model_output, int64_t step_index,
                                                         const at::Tensor& sample, NoiseSource* noise_source) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  return StepWithNoise(model_output, step_index, sample, NoiseLike(model_output, noise_source));
}

absl::StatusOr<at::Tensor> EulerAncestralScheduler::StepWithNoise(const at::Tensor& model_output,
                                                                  int64_t step_index, const at::Tensor& sample,
                                                                  const at::Tensor& noise) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  const at::Tensor x = sample.to(torch::kFloat);
  const double sigma_from = Sigma(step_index), sigma_to = Sigma(step_index + 1);
  const at::Tensor original = PredictOriginal(model_output.to(torch::kFloat), x, sigma_from);
  const double sigma_up =
      std::sqrt(sigma_to * sigma_to * (sigma_from * sigma_from - sigma_to * sigma_to) / (sigma_from * sigma_from));
  const double sigma_down = std::sqrt(sigma_to * sigma_to - sigma_up * sigma_up);
  const at::Tensor derivative = (x - original) / sigma_from;
  const at::Tensor prev = x + derivative * (sigma_down - sigma_from) + noise.to(x.device(), torch::kFloat) * sigma_up;
  return prev.to(model_output.scalar_type());
}

}  // namespace dreamshot::diffusion

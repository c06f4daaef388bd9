#include "diffusion/schedulers/euler.h"

#include <torch/torch.h>

#include "core/status_macros.h"

namespace dreamshot::diffusion {

absl::StatusOr<std::unique_ptr<EulerScheduler>> EulerScheduler::Create(const SchedulerConfig& config) {
  RETURN_IF_ERROR(CheckPredictionType(config, "EulerDiscreteScheduler"));
  ASSIGN_OR_RETURN(NoiseSchedule schedule, NoiseSchedule::FromConfig(config));
  return std::unique_ptr<EulerScheduler>(new EulerScheduler(config, std::move(schedule)));
}

absl::StatusOr<at::Tensor> EulerScheduler::Step(const at::Tensor& model_output, int64_t step_index,
                                                const at::Tensor& sample, NoiseSource* /*noise*/) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  // In float32 whatever the model's dtype, as upstream.
  const at::Tensor x = sample.to(torch::kFloat);
  const double sigma = Sigma(step_index);
  const at::Tensor original = PredictOriginal(model_output.to(torch::kFloat), x, sigma);
  const at::Tensor derivative = (x - original) / sigma;
  const double dt = Sigma(step_index + 1) - sigma;
  return (x + derivative * dt).to(model_output.scalar_type());
}

}  // namespace dreamshot::diffusion

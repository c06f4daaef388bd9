// Euler ancestral sampler (k-diffusion's sample_euler_ancestral, η = 1):
// an Euler step down to σ_down, then fresh noise of σ_up.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_ANCESTRAL_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_ANCESTRAL_H_

#include "diffusion/schedulers/euler_family.h"

namespace dreamshot::diffusion {

class EulerAncestralScheduler final : public EulerFamilyScheduler {
 public:
  static absl::StatusOr<std::unique_ptr<EulerAncestralScheduler>> Create(const SchedulerConfig& config);

  std::string name() const override { return "EulerAncestralDiscreteScheduler"; }
  absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index, const at::Tensor& sample,
                                  NoiseSource* noise = nullptr) override;
  // The same step with the N(0, 1) draw given (tests, replays).
  absl::StatusOr<at::Tensor> StepWithNoise(const at::Tensor& model_output, int64_t step_index,
                                           const at::Tensor& sample, const at::Tensor& noise);

 private:
  using EulerFamilyScheduler::EulerFamilyScheduler;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_ANCESTRAL_H_

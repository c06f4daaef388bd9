// Euler sampler on the probability-flow ODE in σ (Karras et al. 2022,
// algorithm 2 without churn): diffusers' EulerDiscreteScheduler.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_H_

#include "diffusion/schedulers/euler_family.h"

namespace dreamshot::diffusion {

class EulerScheduler final : public EulerFamilyScheduler {
 public:
  static absl::StatusOr<std::unique_ptr<EulerScheduler>> Create(const SchedulerConfig& config);

  std::string name() const override { return "EulerDiscreteScheduler"; }
  absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index, const at::Tensor& sample,
                                  NoiseSource* noise = nullptr) override;

 private:
  using EulerFamilyScheduler::EulerFamilyScheduler;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_H_

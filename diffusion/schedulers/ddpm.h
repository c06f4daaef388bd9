// DDPM (Ho et al. 2020): the training-time forward process (AddNoise,
// GetVelocity, TrainingTarget on the base class) and ancestral sampling with
// the "fixed_small" posterior variance.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_DDPM_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_DDPM_H_

#include "diffusion/schedulers/scheduler.h"

namespace dreamshot::diffusion {

class DdpmScheduler final : public Scheduler {
 public:
  static absl::StatusOr<std::unique_ptr<DdpmScheduler>> Create(const SchedulerConfig& config);

  std::string name() const override { return "DDPMScheduler"; }
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index, const at::Tensor& sample,
                                  NoiseSource* noise = nullptr) override;

 private:
  DdpmScheduler(SchedulerConfig config, NoiseSchedule schedule)
      : Scheduler(std::move(config), std::move(schedule)) {}
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_DDPM_H_

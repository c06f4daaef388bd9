// DDIM (Song et al. 2021): deterministic for eta = 0, DDPM-like as eta → 1.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_DDIM_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_DDIM_H_

#include "diffusion/schedulers/scheduler.h"

namespace dreamshot::diffusion {

class DdimScheduler final : public Scheduler {
 public:
  // `eta`: weight of the fresh noise in each step (0: deterministic).
  static absl::StatusOr<std::unique_ptr<DdimScheduler>> Create(const SchedulerConfig& config, double eta = 0.0);

  std::string name() const override { return "DDIMScheduler"; }
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index, const at::Tensor& sample,
                                  NoiseSource* noise = nullptr) override;

 private:
  DdimScheduler(SchedulerConfig config, NoiseSchedule schedule, double eta)
      : Scheduler(std::move(config), std::move(schedule)), eta_(eta) {}
  double eta_;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_DDIM_H_

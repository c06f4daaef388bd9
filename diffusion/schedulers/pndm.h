// PNDM with skip_prk_steps (Liu et al. 2022), the scheduler Stable
// Diffusion 1.x ships with: linear multistep (PLMS) on ε, the first step
// move taken twice (Heun-like) to seed the history.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_PNDM_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_PNDM_H_

#include <vector>

#include "diffusion/schedulers/scheduler.h"

namespace dreamshot::diffusion {

class PndmScheduler final : public Scheduler {
 public:
  static absl::StatusOr<std::unique_ptr<PndmScheduler>> Create(const SchedulerConfig& config);

  std::string name() const override { return "PNDMScheduler"; }
  // num_inference_steps + 1 model evaluations: the second timestep repeats.
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index, const at::Tensor& sample,
                                  NoiseSource* noise = nullptr) override;

 private:
  PndmScheduler(SchedulerConfig config, NoiseSchedule schedule)
      : Scheduler(std::move(config), std::move(schedule)) {}
  at::Tensor PreviousSample(const at::Tensor& sample, int64_t t, int64_t prev_t, at::Tensor model_output) const;

  std::vector<at::Tensor> ets_;  // the last (up to 4) ε outputs
  at::Tensor first_sample_;      // x at the first step, reused by the second
  int64_t next_step_ = 0;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_PNDM_H_

// What Euler and Euler ancestral share: timesteps and σ per step, the
// initial noise scale and the input scaling 1/sqrt(σ² + 1).
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_FAMILY_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_FAMILY_H_

#include <vector>

#include "diffusion/schedulers/scheduler.h"

namespace dreamshot::diffusion {

class EulerFamilyScheduler : public Scheduler {
 public:
  // Timesteps as diffusers spaces them (float32), σ interpolated at them
  // (or Karras-spaced), and a final σ = 0.
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  double init_noise_sigma() const override;
  at::Tensor ScaleModelInput(const at::Tensor& sample, int64_t step_index) const override;
  const at::Tensor& sigmas() const { return sigmas_; }  // [num_steps() + 1], float32

 protected:
  EulerFamilyScheduler(SchedulerConfig config, NoiseSchedule schedule)
      : Scheduler(std::move(config), std::move(schedule)) {}
  // σ at step i as float32 (the precision upstream steps in).
  double Sigma(int64_t i) const { return sigma_values_[i]; }
  // x0 from the model output at noise level sigma (ε or v prediction).
  at::Tensor PredictOriginal(const at::Tensor& model_output, const at::Tensor& sample, double sigma) const;
  static absl::Status CheckPredictionType(const SchedulerConfig& config, const char* name);

  at::Tensor sigmas_;
  std::vector<float> sigma_values_;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_EULER_FAMILY_H_

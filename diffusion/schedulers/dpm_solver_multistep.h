// DPM-Solver++(2M) (Lu et al. 2022): second-order multistep solver on the
// data prediction x0, in log-SNR λ; "DPM++ 2M" in A1111/ComfyUI, with
// use_karras_sigmas "DPM++ 2M Karras". diffusers' DPMSolverMultistepScheduler
// with algorithm_type "dpmsolver++", solver_order 1 or 2, solver_type
// midpoint or heun, lower_order_final.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_DPM_SOLVER_MULTISTEP_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_DPM_SOLVER_MULTISTEP_H_

#include <vector>

#include "core/json_config.h"
#include "diffusion/schedulers/scheduler.h"

namespace dreamshot::diffusion {

struct DpmSolverOptions {
  int64_t solver_order = 2;
  bool heun = false;  // solver_type "heun" instead of "midpoint"
  bool lower_order_final = true;
  bool euler_at_final = false;

  // Reads solver_order, solver_type, algorithm_type (only "dpmsolver++"),
  // lower_order_final, euler_at_final.
  static absl::StatusOr<DpmSolverOptions> FromJson(const core::JsonConfig& json);
};

class DpmSolverMultistepScheduler final : public Scheduler {
 public:
  static absl::StatusOr<std::unique_ptr<DpmSolverMultistepScheduler>> Create(const SchedulerConfig& config,
                                                                              const DpmSolverOptions& options = {});

  std::string name() const override { return "DPMSolverMultistepScheduler"; }
  absl::Status SetTimesteps(int64_t num_inference_steps) override;
  absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index, const at::Tensor& sample,
                                  NoiseSource* noise = nullptr) override;
  const at::Tensor& sigmas() const { return sigmas_; }  // [num_steps() + 1], float32

 private:
  DpmSolverMultistepScheduler(SchedulerConfig config, NoiseSchedule schedule, DpmSolverOptions options)
      : Scheduler(std::move(config), std::move(schedule)), options_(options) {}
  at::Tensor DataPrediction(const at::Tensor& model_output, const at::Tensor& sample, double sigma) const;

  DpmSolverOptions options_;
  at::Tensor sigmas_;
  std::vector<float> sigma_values_;
  std::vector<at::Tensor> data_predictions_;  // x0 of the previous step(s), oldest first
  int64_t lower_order_nums_ = 0;
  int64_t next_step_ = 0;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_DPM_SOLVER_MULTISTEP_H_

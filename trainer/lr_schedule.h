// Learning-rate schedules as diffusers' get_scheduler makes them
// (diffusers/optimization.py, the same lambdas as transformers): the
// learning rate of optimizer step k (0-based) is base_lr · Multiplier(k),
// which is what torch's LambdaLR gives when scheduler.step() follows each
// optimizer step.
//   constant              1
//   constant_with_warmup  k/warmup during warmup, then 1
//   linear                warmup, then (total − k)/(total − warmup), ≥ 0
//   cosine                warmup, then ½(1 + cos(π·2·cycles·p)), ≥ 0,
//                         p = (k − warmup)/(total − warmup), cycles = 0.5
//   cosine_with_restarts  warmup, then ½(1 + cos(π·((cycles·p) mod 1))),
//                         0 once p ≥ 1, cycles = 1
//   polynomial            warmup, then ((lr − lr_end)·(1 − p)^power +
//                         lr_end)/lr, lr_end/lr after total (lr_end 1e-7,
//                         power 1)
// "during warmup" is k < warmup; the ramp is k / max(1, warmup).
#ifndef DREAMSHOT_TRAINER_LR_SCHEDULE_H_
#define DREAMSHOT_TRAINER_LR_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace torch::optim {
class Optimizer;
}

namespace dreamshot::trainer {

struct LrScheduleOptions {
  std::string name = "constant";
  double base_lr = 1e-4;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double num_cycles = -1;  // < 0: the schedule's default (cosine 0.5, restarts 1)
  double power = 1.0;      // polynomial
  double lr_end = 1e-7;    // polynomial
};

class LrSchedule {
 public:
  // INVALID_ARGUMENT naming the field: an unknown name (listing the
  // known ones), a learning rate ≤ 0 or not finite, negative warmup, total
  // steps ≤ 0, polynomial lr_end above the learning rate.
  static absl::StatusOr<LrSchedule> Create(const LrScheduleOptions& options);
  static std::vector<std::string> Names();

  double Multiplier(int64_t step) const;
  double LearningRate(int64_t step) const { return options_.base_lr * Multiplier(step); }
  // Sets every parameter group's learning rate to LearningRate(step).
  void Apply(torch::optim::Optimizer& optimizer, int64_t step) const;
  const LrScheduleOptions& options() const { return options_; }

 private:
  explicit LrSchedule(LrScheduleOptions options) : options_(std::move(options)) {}
  LrScheduleOptions options_;
};

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_LR_SCHEDULE_H_

#include "trainer/lr_schedule.h"

#include <torch/optim/optimizer.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::trainer {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

std::vector<std::string> LrSchedule::Names() {
  return {"constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial"};
}

absl::StatusOr<LrSchedule> LrSchedule::Create(const LrScheduleOptions& options) {
  const std::vector<std::string> names = Names();
  if (std::find(names.begin(), names.end(), options.name) == names.end()) {
    return absl::InvalidArgumentError(absl::StrCat("lr_scheduler: unknown schedule '", options.name, "' (",
                                                   absl::StrJoin(names, ", "), ")"));
  }
  if (!(options.base_lr > 0) || !std::isfinite(options.base_lr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning_rate must be a finite number above 0, got ", options.base_lr));
  }
  if (options.warmup_steps < 0) {
    return absl::InvalidArgumentError(absl::StrCat("lr_warmup_steps must not be negative, got ", options.warmup_steps));
  }
  if (options.total_steps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_train_steps must be positive, got ", options.total_steps));
  }
  if (options.name == "polynomial" && options.lr_end > options.base_lr) {
    return absl::InvalidArgumentError(absl::StrCat("lr_end (", options.lr_end,
                                                   ") must not be above the learning rate (", options.base_lr, ")"));
  }
  LrScheduleOptions resolved = options;
  if (resolved.num_cycles < 0) resolved.num_cycles = options.name == "cosine_with_restarts" ? 1.0 : 0.5;
  return LrSchedule(resolved);
}

double LrSchedule::Multiplier(int64_t step) const {
  const LrScheduleOptions& o = options_;
  if (o.name == "constant") return 1.0;
  const double k = static_cast<double>(step);
  const double warmup = static_cast<double>(o.warmup_steps);
  const double total = static_cast<double>(o.total_steps);
  if (step < o.warmup_steps) return k / std::max(1.0, warmup);
  if (o.name == "constant_with_warmup") return 1.0;
  if (o.name == "linear") return std::max(0.0, (total - k) / std::max(1.0, total - warmup));
  const double progress = (k - warmup) / std::max(1.0, total - warmup);
  if (o.name == "cosine") return std::max(0.0, 0.5 * (1.0 + std::cos(kPi * o.num_cycles * 2.0 * progress)));
  if (o.name == "cosine_with_restarts") {
    if (progress >= 1.0) return 0.0;
    return std::max(0.0, 0.5 * (1.0 + std::cos(kPi * std::fmod(o.num_cycles * progress, 1.0))));
  }
  // polynomial
  if (step > o.total_steps) return o.lr_end / o.base_lr;
  const double decay_steps = total - warmup;
  const double remaining = 1.0 - (k - warmup) / decay_steps;
  return ((o.base_lr - o.lr_end) * std::pow(remaining, o.power) + o.lr_end) / o.base_lr;
}

void LrSchedule::Apply(torch::optim::Optimizer& optimizer, int64_t step) const {
  const double lr = LearningRate(step);
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace dreamshot::trainer

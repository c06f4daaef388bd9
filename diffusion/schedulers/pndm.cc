#include "diffusion/schedulers/pndm.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {

absl::StatusOr<std::unique_ptr<PndmScheduler>> PndmScheduler::Create(const SchedulerConfig& config) {
  if (config.prediction_type == PredictionType::kSample) {
    return absl::InvalidArgumentError("PNDM: prediction_type \"sample\" is not supported (epsilon, v_prediction)");
  }
  ASSIGN_OR_RETURN(NoiseSchedule schedule, NoiseSchedule::FromConfig(config));
  return std::unique_ptr<PndmScheduler>(new PndmScheduler(config, std::move(schedule)));
}

absl::Status PndmScheduler::SetTimesteps(int64_t num_inference_steps) {
  if (num_inference_steps < 2 || num_inference_steps > config_.num_train_timesteps) {
    return absl::InvalidArgumentError(absl::StrCat("PNDM: steps must be in [2, ", config_.num_train_timesteps,
                                                   "], got ", num_inference_steps));
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> spaced, SpacedTimesteps(config_, num_inference_steps));  // descending
  num_inference_steps_ = num_inference_steps;
  // The second timestep is evaluated twice: step 1 redoes step 0's move
  // (t0 → t1) with the mean of both ε, then PLMS continues from t1.
  std::vector<int64_t> plms;
  plms.reserve(spaced.size() + 1);
  plms.push_back(spaced[0]);
  plms.push_back(spaced[1]);
  plms.insert(plms.end(), spaced.begin() + 1, spaced.end());
  timesteps_ = torch::tensor(plms, torch::kLong);
  ets_.clear();
  first_sample_ = at::Tensor();
  next_step_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> PndmScheduler::Step(const at::Tensor& model_output, int64_t step_index,
                                               const at::Tensor& sample, NoiseSource* /*noise*/) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  if (step_index != next_step_) {
    return absl::FailedPreconditionError(
        absl::StrCat("PNDM is multistep: expected step ", next_step_, ", got ", step_index));
  }
  const int64_t ratio = config_.num_train_timesteps / num_inference_steps_;
  int64_t t = timesteps_[step_index].item<int64_t>();
  int64_t prev_t = t - ratio;
  if (step_index != 1) {
    if (ets_.size() == 4) ets_.erase(ets_.begin());
    ets_.push_back(model_output);
  } else {
    // The repeated first timestep: step from t + ratio to t again.
    prev_t = t;
    t = t + ratio;
  }
  at::Tensor x = sample, e;
  const size_t n = ets_.size();
  if (step_index == 0) {
    e = model_output;
    first_sample_ = sample;
  } else if (step_index == 1) {
    e = (model_output + ets_[n - 1]) / 2;
    x = first_sample_;
    first_sample_ = at::Tensor();
  } else if (n == 2) {
    e = (3 * ets_[1] - ets_[0]) / 2;
  } else if (n == 3) {
    e = (23 * ets_[2] - 16 * ets_[1] + 5 * ets_[0]) / 12;
  } else {
    e = (55 * ets_[3] - 59 * ets_[2] + 37 * ets_[1] - 9 * ets_[0]) / 24;
  }
  ++next_step_;
  return PreviousSample(x, t, prev_t, e);
}

// Eq. 11 of the PNDM paper (the transfer part φ).
at::Tensor PndmScheduler::PreviousSample(const at::Tensor& sample, int64_t t, int64_t prev_t,
                                         at::Tensor model_output) const {
  const double a_t = AlphaCumprod(t), a_prev = AlphaCumprod(prev_t);
  const double b_t = 1 - a_t, b_prev = 1 - a_prev;
  if (config_.prediction_type == PredictionType::kVPrediction) {
    model_output = std::sqrt(a_t) * model_output + std::sqrt(b_t) * sample;
  }
  const double sample_coeff = std::sqrt(a_prev / a_t);
  const double denom = a_t * std::sqrt(b_prev) + std::sqrt(a_t * b_t * a_prev);
  return sample_coeff * sample - (a_prev - a_t) * model_output / denom;
}

}  // namespace dreamshot::diffusion

#include "diffusion/schedulers/euler_family.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "diffusion/schedulers/sigma_schedule.h"

namespace dreamshot::diffusion {
namespace {

std::vector<double> ToDoubles(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

absl::Status EulerFamilyScheduler::CheckPredictionType(const SchedulerConfig& config, const char* name) {
  if (config.prediction_type == PredictionType::kSample) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": prediction_type \"sample\" is not supported (epsilon, v_prediction)"));
  }
  return absl::OkStatus();
}

absl::Status EulerFamilyScheduler::SetTimesteps(int64_t num_inference_steps) {
  const int64_t n = num_inference_steps, train = config_.num_train_timesteps;
  if (n < 1 || n > train) {
    return absl::InvalidArgumentError(absl::StrCat(name(), ": steps must be in [1, ", train, "], got ", n));
  }
  num_inference_steps_ = n;
  std::vector<double> timesteps(n);
  switch (config_.timestep_spacing) {
    case TimestepSpacing::kLinspace:
      for (int64_t i = 0; i < n; ++i) {
        timesteps[n - 1 - i] = n == 1 ? 0.0 : static_cast<double>(train - 1) * i / (n - 1);
      }
      break;
    case TimestepSpacing::kLeading: {
      const int64_t ratio = train / n;
      for (int64_t i = 0; i < n; ++i) timesteps[n - 1 - i] = static_cast<double>(i * ratio + config_.steps_offset);
      break;
    }
    case TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(train) / n;
      for (int64_t i = 0; i < n; ++i) timesteps[i] = std::nearbyint(train - i * ratio) - 1;
      break;
    }
  }
  // Upstream keeps the timesteps in float32 before interpolating.
  for (double& t : timesteps) t = static_cast<float>(t);
  const std::vector<double> train_sigmas = ToDoubles(schedule_.Sigmas());
  std::vector<double> sigmas = InterpolateSigmas(train_sigmas, timesteps);
  if (config_.use_karras_sigmas) {
    sigmas = KarrasSigmas(sigmas.back(), sigmas.front(), n);
    std::vector<double> log_sigmas(train_sigmas.size());
    std::transform(train_sigmas.begin(), train_sigmas.end(), log_sigmas.begin(), [](double s) { return std::log(s); });
    for (int64_t i = 0; i < n; ++i) timesteps[i] = SigmaToTimestep(sigmas[i], log_sigmas);
  }
  sigmas.push_back(0.0);
  sigma_values_.assign(sigmas.begin(), sigmas.end());
  sigmas_ = torch::tensor(sigma_values_, torch::kFloat);
  timesteps_ = torch::tensor(std::vector<float>(timesteps.begin(), timesteps.end()), torch::kFloat);
  return absl::OkStatus();
}

double EulerFamilyScheduler::init_noise_sigma() const {
  const double max_sigma = sigma_values_.empty() ? 0.0 : *std::max_element(sigma_values_.begin(), sigma_values_.end());
  if (config_.timestep_spacing == TimestepSpacing::kLeading) return std::sqrt(max_sigma * max_sigma + 1);
  return max_sigma;
}

at::Tensor EulerFamilyScheduler::ScaleModelInput(const at::Tensor& sample, int64_t step_index) const {
  const double sigma = Sigma(step_index);
  return sample / std::sqrt(sigma * sigma + 1);
}

at::Tensor EulerFamilyScheduler::PredictOriginal(const at::Tensor& model_output, const at::Tensor& sample,
                                                 double sigma) const {
  if (config_.prediction_type == PredictionType::kVPrediction) {
    return model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1);
  }
  return sample - sigma * model_output;
}

}  // namespace dreamshot::diffusion

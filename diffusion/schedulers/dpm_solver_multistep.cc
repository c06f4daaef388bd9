#include "diffusion/schedulers/dpm_solver_multistep.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/sigma_schedule.h"

namespace dreamshot::diffusion {
namespace {

// σ (variance-exploding) → (α_t, σ_t) of the variance-preserving process.
struct AlphaSigma {
  double alpha, sigma, lambda;  // λ = log α − log σ, the half log-SNR
};

AlphaSigma FromSigma(double sigma) {
  AlphaSigma a;
  a.alpha = 1 / std::sqrt(sigma * sigma + 1);
  a.sigma = sigma * a.alpha;
  a.lambda = std::log(a.alpha) - std::log(a.sigma);
  return a;
}

}  // namespace

absl::StatusOr<DpmSolverOptions> DpmSolverOptions::FromJson(const core::JsonConfig& json) {
  DpmSolverOptions o;
  ASSIGN_OR_RETURN(o.solver_order, json.Int("solver_order", o.solver_order));
  if (o.solver_order != 1 && o.solver_order != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(json.source(), ": solver_order ", o.solver_order, " is not supported (1 or 2)"));
  }
  ASSIGN_OR_RETURN(std::string algorithm, json.String("algorithm_type", "dpmsolver++"));
  if (algorithm != "dpmsolver++") {
    return absl::InvalidArgumentError(
        absl::StrCat(json.source(), ": algorithm_type \"", algorithm, "\" is not supported (dpmsolver++)"));
  }
  ASSIGN_OR_RETURN(std::string solver_type, json.String("solver_type", "midpoint"));
  if (solver_type != "midpoint" && solver_type != "heun") {
    return absl::InvalidArgumentError(
        absl::StrCat(json.source(), ": solver_type \"", solver_type, "\" is not supported (midpoint, heun)"));
  }
  o.heun = solver_type == "heun";
  ASSIGN_OR_RETURN(o.lower_order_final, json.Bool("lower_order_final", o.lower_order_final));
  ASSIGN_OR_RETURN(o.euler_at_final, json.Bool("euler_at_final", o.euler_at_final));
  return o;
}

absl::StatusOr<std::unique_ptr<DpmSolverMultistepScheduler>> DpmSolverMultistepScheduler::Create(
    const SchedulerConfig& config, const DpmSolverOptions& options) {
  ASSIGN_OR_RETURN(NoiseSchedule schedule, NoiseSchedule::FromConfig(config));
  return std::unique_ptr<DpmSolverMultistepScheduler>(
      new DpmSolverMultistepScheduler(config, std::move(schedule), options));
}

absl::Status DpmSolverMultistepScheduler::SetTimesteps(int64_t num_inference_steps) {
  const int64_t n = num_inference_steps, train = config_.num_train_timesteps;
  if (n < 1 || n > train) {
    return absl::InvalidArgumentError(absl::StrCat(name(), ": steps must be in [1, ", train, "], got ", n));
  }
  std::vector<int64_t> timesteps(n);
  switch (config_.timestep_spacing) {
    case TimestepSpacing::kLinspace:
      // n + 1 points over [0, train - 1], descending, the last (0) dropped.
      for (int64_t i = 0; i < n; ++i) {
        timesteps[i] = static_cast<int64_t>(std::nearbyint(static_cast<double>(train - 1) * (n - i) / n));
      }
      break;
    case TimestepSpacing::kLeading: {
      const int64_t ratio = train / (n + 1);
      for (int64_t i = 0; i < n; ++i) timesteps[i] = (n - i) * ratio + config_.steps_offset;
      break;
    }
    case TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(train) / n;
      for (int64_t i = 0; i < n; ++i) timesteps[i] = static_cast<int64_t>(std::nearbyint(train - i * ratio)) - 1;
      break;
    }
  }
  const at::Tensor train_sigmas_tensor = schedule_.Sigmas();
  const at::Tensor as_double = train_sigmas_tensor.to(torch::kDouble).contiguous();
  const std::vector<double> train_sigmas(as_double.data_ptr<double>(), as_double.data_ptr<double>() + train);
  std::vector<double> sigmas;
  if (config_.use_karras_sigmas) {
    sigmas = KarrasSigmas(train_sigmas.front(), train_sigmas.back(), n);
    std::vector<double> log_sigmas(train);
    std::transform(train_sigmas.begin(), train_sigmas.end(), log_sigmas.begin(), [](double s) { return std::log(s); });
    for (int64_t i = 0; i < n; ++i) timesteps[i] = static_cast<int64_t>(std::nearbyint(SigmaToTimestep(sigmas[i], log_sigmas)));
    sigmas.push_back(sigmas.back());
  } else {
    sigmas = InterpolateSigmas(train_sigmas, std::vector<double>(timesteps.begin(), timesteps.end()));
    // The last step lands on σ of timestep 0, not on 0.
    sigmas.push_back(train_sigmas_tensor[0].item<float>());
  }
  num_inference_steps_ = n;
  sigma_values_.assign(sigmas.begin(), sigmas.end());
  sigmas_ = torch::tensor(sigma_values_, torch::kFloat);
  timesteps_ = torch::tensor(timesteps, torch::kLong);
  data_predictions_.clear();
  lower_order_nums_ = 0;
  next_step_ = 0;
  return absl::OkStatus();
}

at::Tensor DpmSolverMultistepScheduler::DataPrediction(const at::Tensor& model_output, const at::Tensor& sample,
                                                       double sigma) const {
  const AlphaSigma s = FromSigma(sigma);
  switch (config_.prediction_type) {
    case PredictionType::kEpsilon:
      return (sample - s.sigma * model_output) / s.alpha;
    case PredictionType::kVPrediction:
      return s.alpha * sample - s.sigma * model_output;
    case PredictionType::kSample:
      break;
  }
  return model_output;
}

absl::StatusOr<at::Tensor> DpmSolverMultistepScheduler::Step(const at::Tensor& model_output, int64_t step_index,
                                                             const at::Tensor& sample, NoiseSource* /*noise*/) {
  RETURN_IF_ERROR(CheckStepIndex(step_index));
  if (step_index != next_step_) {
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " is multistep: expected step ", next_step_, ", got ", step_index));
  }
  const int64_t n = num_steps(), i = step_index;
  // Few steps: the last one (and the one before) drop to lower order, which
  // is more stable there (upstream's lower_order_final for < 15 steps).
  const bool final_first_order =
      i == n - 1 && (options_.euler_at_final || (options_.lower_order_final && n < 15));
  const at::Tensor x = sample.to(torch::kFloat);
  const at::Tensor x0 = DataPrediction(model_output.to(torch::kFloat), x, sigma_values_[i]);
  data_predictions_.push_back(x0);
  if (data_predictions_.size() > 2) data_predictions_.erase(data_predictions_.begin());

  const AlphaSigma t = FromSigma(sigma_values_[i + 1]), s0 = FromSigma(sigma_values_[i]);
  const double h = t.lambda - s0.lambda;
  const double phi = std::expm1(-h);  // e^{-h} − 1
  at::Tensor prev;
  if (options_.solver_order == 1 || lower_order_nums_ < 1 || final_first_order) {
    prev = (t.sigma / s0.sigma) * x - (t.alpha * phi) * x0;
  } else {
    const AlphaSigma s1 = FromSigma(sigma_values_[i - 1]);
    const double r0 = (s0.lambda - s1.lambda) / h;
    const at::Tensor& m0 = data_predictions_[1];
    const at::Tensor d1 = (1 / r0) * (m0 - data_predictions_[0]);
    prev = (t.sigma / s0.sigma) * x - (t.alpha * phi) * m0;
    prev = options_.heun ? prev + (t.alpha * (phi / h + 1)) * d1 : prev - (0.5 * t.alpha * phi) * d1;
  }
  if (lower_order_nums_ < options_.solver_order) ++lower_order_nums_;
  ++next_step_;
  return prev.to(model_output.scalar_type());
}

}  // namespace dreamshot::diffusion

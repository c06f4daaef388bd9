#include "diffusion/schedulers/scheduler_config.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {
namespace {

absl::StatusOr<PredictionType> ParsePredictionType(const std::string& name) {
  if (name == "epsilon") return PredictionType::kEpsilon;
  if (name == "v_prediction") return PredictionType::kVPrediction;
  if (name == "sample") return PredictionType::kSample;
  return absl::InvalidArgumentError(
      absl::StrCat("scheduler config: unsupported prediction_type \"", name, "\" (epsilon, v_prediction, sample)"));
}

absl::StatusOr<TimestepSpacing> ParseSpacing(const std::string& name) {
  if (name == "leading") return TimestepSpacing::kLeading;
  if (name == "linspace") return TimestepSpacing::kLinspace;
  if (name == "trailing") return TimestepSpacing::kTrailing;
  return absl::InvalidArgumentError(
      absl::StrCat("scheduler config: unsupported timestep_spacing \"", name, "\" (leading, linspace, trailing)"));
}

// Glide's cosine schedule: ᾱ(t) = cos²((t + 0.008) / 1.008 · π/2), betas
// capped at 0.999 (diffusers' betas_for_alpha_bar).
at::Tensor CosineBetas(int64_t n) {
  auto alpha_bar = [](double t) {
    const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
    return c * c;
  };
  std::vector<float> betas(n);
  for (int64_t i = 0; i < n; ++i) {
    const double t1 = static_cast<double>(i) / n, t2 = static_cast<double>(i + 1) / n;
    betas[i] = static_cast<float>(std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999));
  }
  return torch::tensor(betas, torch::kFloat);
}

// Rescales betas to zero terminal SNR (Lin et al. 2023, algorithm 1), so the
// last timestep is pure noise.
at::Tensor RescaleZeroTerminalSnr(const at::Tensor& betas) {
  at::Tensor sqrt_bar = torch::cumprod(1 - betas, 0).sqrt();
  const at::Tensor first = sqrt_bar[0].clone(), last = sqrt_bar[-1].clone();
  sqrt_bar = (sqrt_bar - last) * (first / (first - last));
  const at::Tensor bar = sqrt_bar * sqrt_bar;
  const at::Tensor alphas = torch::cat({bar.narrow(0, 0, 1), bar.narrow(0, 1, bar.size(0) - 1) / bar.narrow(0, 0, bar.size(0) - 1)});
  return 1 - alphas;
}

}  // namespace

absl::StatusOr<SchedulerConfig> SchedulerConfig::FromJson(const core::JsonConfig& json,
                                                          TimestepSpacing default_spacing) {
  SchedulerConfig c;
  ASSIGN_OR_RETURN(c.num_train_timesteps, json.Int("num_train_timesteps", c.num_train_timesteps));
  ASSIGN_OR_RETURN(c.beta_start, json.Double("beta_start", c.beta_start));
  ASSIGN_OR_RETURN(c.beta_end, json.Double("beta_end", c.beta_end));
  ASSIGN_OR_RETURN(c.beta_schedule, json.String("beta_schedule", c.beta_schedule));
  if (json.Has("trained_betas")) {
    return absl::InvalidArgumentError(absl::StrCat(
        json.source(), ": trained_betas is not supported; give beta_start/beta_end/beta_schedule instead"));
  }
  ASSIGN_OR_RETURN(std::string prediction, json.String("prediction_type", "epsilon"));
  ASSIGN_OR_RETURN(c.prediction_type, ParsePredictionType(prediction));
  if (json.Has("timestep_spacing")) {
    ASSIGN_OR_RETURN(std::string spacing, json.String("timestep_spacing"));
    ASSIGN_OR_RETURN(c.timestep_spacing, ParseSpacing(spacing));
  } else {
    c.timestep_spacing = default_spacing;
  }
  ASSIGN_OR_RETURN(c.steps_offset, json.Int("steps_offset", c.steps_offset));
  ASSIGN_OR_RETURN(c.set_alpha_to_one, json.Bool("set_alpha_to_one", c.set_alpha_to_one));
  ASSIGN_OR_RETURN(c.clip_sample, json.Bool("clip_sample", c.clip_sample));
  ASSIGN_OR_RETURN(c.clip_sample_range, json.Double("clip_sample_range", c.clip_sample_range));
  ASSIGN_OR_RETURN(c.use_karras_sigmas, json.Bool("use_karras_sigmas", c.use_karras_sigmas));
  ASSIGN_OR_RETURN(c.rescale_betas_zero_snr, json.Bool("rescale_betas_zero_snr", c.rescale_betas_zero_snr));
  if (json.Has("thresholding")) {
    ASSIGN_OR_RETURN(bool thresholding, json.Bool("thresholding"));
    if (thresholding) {
      return absl::InvalidArgumentError(absl::StrCat(json.source(), ": thresholding: true is not supported"));
    }
  }
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  return c;
}

absl::Status SchedulerConfig::Validate() const {
  RETURN_IF_ERROR(core::CheckIntRange("num_train_timesteps", num_train_timesteps, 2, kMaxTrainTimesteps));
  if (beta_schedule != "linear" && beta_schedule != "scaled_linear" && beta_schedule != "squaredcos_cap_v2") {
    return absl::InvalidArgumentError(absl::StrCat("unsupported beta_schedule \"", beta_schedule,
                                                   "\" (linear, scaled_linear, squaredcos_cap_v2)"));
  }
  // Each beta is a variance in (0, 1): 0 would make a step noiseless (and
  // the log-SNR infinite), 1 would leave no signal.
  for (const auto& [key, value] : {std::pair<const char*, double>{"beta_start", beta_start}, {"beta_end", beta_end}}) {
    if (!(value > 0 && value < 1)) {
      return absl::InvalidArgumentError(absl::StrCat(key, " = ", value, " must be in (0, 1)"));
    }
  }
  RETURN_IF_ERROR(core::CheckIntRange("steps_offset", steps_offset, 0, num_train_timesteps - 1));
  if (!(clip_sample_range > 0 && clip_sample_range <= 1e6)) {
    return absl::InvalidArgumentError(absl::StrCat("clip_sample_range = ", clip_sample_range, " must be in (0, 1e6]"));
  }
  return absl::OkStatus();
}

SchedulerConfig SchedulerConfig::StableDiffusion15(TimestepSpacing spacing) {
  SchedulerConfig c;
  c.steps_offset = 1;
  c.set_alpha_to_one = false;
  c.timestep_spacing = spacing;
  return c;
}

absl::StatusOr<NoiseSchedule> NoiseSchedule::FromConfig(const SchedulerConfig& config) {
  {
    absl::Status valid = config.Validate();
    if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("scheduler config: ", valid.message()));
  }
  try {
    return Compute(config);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("computing the noise schedule: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<NoiseSchedule> NoiseSchedule::Compute(const SchedulerConfig& config) {
  const int64_t n = config.num_train_timesteps;
  at::Tensor betas;
  if (config.beta_schedule == "linear") {
    betas = torch::linspace(config.beta_start, config.beta_end, n, torch::kFloat);
  } else if (config.beta_schedule == "scaled_linear") {
    // Linear in sqrt(beta), as the latent diffusion models were trained.
    betas = torch::linspace(std::sqrt(config.beta_start), std::sqrt(config.beta_end), n, torch::kFloat).pow(2);
  } else if (config.beta_schedule == "squaredcos_cap_v2") {
    betas = CosineBetas(n);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("scheduler config: unsupported beta_schedule \"",
                                                   config.beta_schedule,
                                                   "\" (linear, scaled_linear, squaredcos_cap_v2)"));
  }
  if (config.rescale_betas_zero_snr) betas = RescaleZeroTerminalSnr(betas);
  NoiseSchedule s;
  s.betas = betas;
  s.alphas_cumprod = torch::cumprod(1 - betas, 0);
  return s;
}

at::Tensor NoiseSchedule::Sigmas() const { return ((1 - alphas_cumprod) / alphas_cumprod).pow(0.5); }

absl::StatusOr<std::vector<int64_t>> SpacedTimesteps(const SchedulerConfig& config, int64_t num_inference_steps) {
  const int64_t n = num_inference_steps, train = config.num_train_timesteps;
  std::vector<int64_t> t(n);
  switch (config.timestep_spacing) {
    case TimestepSpacing::kLinspace:
      for (int64_t i = 0; i < n; ++i) {
        const double v = n == 1 ? 0.0 : static_cast<double>(train - 1) * i / (n - 1);
        t[n - 1 - i] = static_cast<int64_t>(std::nearbyint(v));  // numpy rounds half to even
      }
      break;
    case TimestepSpacing::kLeading: {
      const int64_t ratio = train / n;
      for (int64_t i = 0; i < n; ++i) t[n - 1 - i] = i * ratio + config.steps_offset;
      break;
    }
    case TimestepSpacing::kTrailing: {
      const double ratio = static_cast<double>(train) / n;
      for (int64_t i = 0; i < n; ++i) t[i] = static_cast<int64_t>(std::nearbyint(train - i * ratio)) - 1;
      break;
    }
  }
  for (int64_t v : t) {
    if (v < 0 || v >= train) {
      return absl::InvalidArgumentError(absl::StrCat(
          n, " steps reach timestep ", v, " (steps_offset ", config.steps_offset,
          "), outside the schedule's ", train, " training timesteps: use fewer steps"));
    }
  }
  return t;
}

}  // namespace dreamshot::diffusion

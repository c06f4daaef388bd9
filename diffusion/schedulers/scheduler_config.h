// The noise schedule shared by every scheduler, parsed from a diffusers
// `scheduler/scheduler_config.json`: betas (linear, scaled_linear,
// squaredcos_cap_v2 or trained), their cumulative alpha products, and the
// options each scheduler reads. Unknown keys are ignored as diffusers does
// when a config written for one scheduler is loaded into another; values
// this code cannot honour are errors naming the key.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_CONFIG_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_CONFIG_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/json_config.h"

namespace dreamshot::diffusion {

// Upper bound on num_train_timesteps: SD uses 1000, published DDPMs up to
// 4000; the schedule holds a few float tensors of this length.
inline constexpr int64_t kMaxTrainTimesteps = 100000;

enum class PredictionType { kEpsilon, kVPrediction, kSample };
// How inference timesteps are spread over the training ones (diffusers'
// `timestep_spacing`; table 2 of "Common Diffusion Noise Schedules and
// Sample Steps are Flawed").
enum class TimestepSpacing { kLeading, kLinspace, kTrailing };

struct SchedulerConfig {
  int64_t num_train_timesteps = 1000;
  double beta_start = 0.00085;
  double beta_end = 0.012;
  std::string beta_schedule = "scaled_linear";
  std::vector<double> trained_betas;  // overrides the schedule when set
  PredictionType prediction_type = PredictionType::kEpsilon;
  // Defaults differ per scheduler upstream (DDIM/PNDM/DDPM: leading,
  // Euler/DPM-Solver: linspace); FromJson takes the scheduler's default.
  TimestepSpacing timestep_spacing = TimestepSpacing::kLeading;
  int64_t steps_offset = 0;
  bool set_alpha_to_one = true;
  bool clip_sample = false;
  double clip_sample_range = 1.0;
  bool use_karras_sigmas = false;
  bool rescale_betas_zero_snr = false;

  // Reads and validates (Validate) a scheduler_config.json; errors name the
  // file and the key.
  static absl::StatusOr<SchedulerConfig> FromJson(const core::JsonConfig& json, TimestepSpacing default_spacing);
  // Ranges, before a schedule is computed from the values:
  // num_train_timesteps in [2, kMaxTrainTimesteps], beta_start/beta_end in
  // (0, 1), a known beta_schedule, steps_offset in [0, num_train_timesteps),
  // clip_sample_range > 0. INVALID_ARGUMENT naming the key.
  absl::Status Validate() const;
  // SD 1.5's scheduler config (PNDM's scheduler_config.json of
  // runwayml/stable-diffusion-v1-5) with the given spacing.
  static SchedulerConfig StableDiffusion15(TimestepSpacing spacing);
};

// betas, alphas = 1 - betas and their cumulative product, float32 on the
// CPU as diffusers keeps them.
struct NoiseSchedule {
  at::Tensor betas;           // [num_train_timesteps]
  at::Tensor alphas_cumprod;  // [num_train_timesteps]

  // INVALID_ARGUMENT for a config that fails Validate.
  static absl::StatusOr<NoiseSchedule> FromConfig(const SchedulerConfig& config);
  // sqrt((1 - ᾱ) / ᾱ): the noise level of each training timestep in the
  // variance-exploding view the Euler and DPM-Solver samplers use.
  at::Tensor Sigmas() const;

 private:
  static absl::StatusOr<NoiseSchedule> Compute(const SchedulerConfig& config);
};

// Inference timesteps for "leading"/"trailing"/"linspace" spacing, as the
// DDIM/DDPM/PNDM schedulers compute them (descending, int64).
// INVALID_ARGUMENT when a timestep would fall outside the training
// schedule: with "leading" spacing and steps_offset 1, 1000 steps of a
// 1000-step schedule would reach timestep 1000 (upstream then fails with an
// index error).
absl::StatusOr<std::vector<int64_t>> SpacedTimesteps(const SchedulerConfig& config, int64_t num_inference_steps);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_CONFIG_H_

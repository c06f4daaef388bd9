// Builds a scheduler by name from a scheduler config, as diffusers'
// `XScheduler.from_config(pipe.scheduler.config)` swaps samplers on one
// model: the config's schedule (betas, offset, spacing if given) is kept,
// the sampler changes.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_FACTORY_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/json_config.h"
#include "diffusion/schedulers/scheduler.h"

namespace dreamshot::diffusion {

struct SchedulerChoice {
  // A short name (ddim, pndm, ddpm, euler, euler_a, dpmpp_2m,
  // dpmpp_2m_karras) or a diffusers class name (DDIMScheduler, ...); empty:
  // the config's `_class_name`.
  std::string name;
  double ddim_eta = 0.0;
};

// The short names, for help texts and validation.
std::vector<std::string> SchedulerNames();

// The short name of a short or class name (INVALID_ARGUMENT listing the
// known names otherwise): requests are checked with it before any work.
absl::StatusOr<std::string> SchedulerShortName(absl::string_view name);
// The short name of the sampler `choice` makes from `config` (its
// `_class_name` when choice.name is empty; Karras sigmas in a
// DPMSolverMultistepScheduler config make it dpmpp_2m_karras).
absl::StatusOr<std::string> SchedulerShortName(const SchedulerChoice& choice, const core::JsonConfig& config);

absl::StatusOr<std::unique_ptr<Scheduler>> CreateScheduler(const SchedulerChoice& choice,
                                                           const core::JsonConfig& config);

// Reads `<model_folder>/scheduler/scheduler_config.json`.
absl::StatusOr<std::unique_ptr<Scheduler>> LoadScheduler(const std::string& model_folder,
                                                         const SchedulerChoice& choice);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_FACTORY_H_

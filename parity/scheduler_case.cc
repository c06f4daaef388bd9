// scheduler_*: a scheduler's trajectory under the reference's fake model
// (README "Scheduler replay rule"): timesteps, σ, the initial noise scale,
// every scaled model input and every step, fed with our own trajectory so
// errors accumulate as they would in sampling. scheduler_ddpm_*: the
// training-side forward process (betas, ᾱ, add_noise, get_velocity).
#include <torch/torch.h>

#include <regex>

#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/dpm_solver_multistep.h"
#include "diffusion/schedulers/euler_ancestral.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "parity/case_kinds.h"
#include "parity/case_io.h"

namespace dreamshot::parity {
namespace {

struct SchedulerCase {
  std::string file;
  double atol = 1e-4, rtol = 1e-4;
};

absl::StatusOr<SchedulerCase> ReadSchedulerCase(const ParityCase& c) {
  SchedulerCase s;
  ASSIGN_OR_RETURN(std::vector<std::string> files, c.spec.StringList("files"));
  if (files.empty()) return absl::InvalidArgumentError(absl::StrCat(c.name, ": no files listed"));
  s.file = c.Path(files[0]);
  ASSIGN_OR_RETURN(s.atol, c.spec.Double("atol", s.atol));
  ASSIGN_OR_RETURN(s.rtol, c.spec.Double("rtol", s.rtol));
  return s;
}

// "scheduler_euler_ancestral_10steps" → ("euler_a", 10).
absl::StatusOr<std::pair<std::string, int64_t>> SamplerAndSteps(const std::string& case_name) {
  static const std::regex pattern("scheduler_(.+)_([0-9]+)steps");
  std::smatch m;
  if (!std::regex_match(case_name, m, pattern)) {
    return absl::InvalidArgumentError(absl::StrCat(case_name, ": not a scheduler_<name>_<N>steps case"));
  }
  std::string name = m[1].str();
  if (name == "euler_ancestral") name = "euler_a";
  return std::make_pair(name, std::stoll(m[2].str()));
}

}  // namespace

absl::StatusOr<CaseResult> RunSchedulerTrajectoryCase(const ParityCase& c, const RunOptions& /*options*/) {
  ASSIGN_OR_RETURN(SchedulerCase s, ReadSchedulerCase(c));
  ASSIGN_OR_RETURN(auto sampler, SamplerAndSteps(c.name));
  ASSIGN_OR_RETURN(core::JsonConfig config, c.spec.Object("scheduler_config"));
  diffusion::SchedulerChoice choice;
  choice.name = sampler.first;
  ASSIGN_OR_RETURN(std::unique_ptr<diffusion::Scheduler> scheduler, diffusion::CreateScheduler(choice, config));
  RETURN_IF_ERROR(scheduler->SetTimesteps(sampler.second));

  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(s.file));
  ASSIGN_OR_RETURN(at::Tensor init_noise, io.Load("init_noise", torch::kFloat));
  at::Tensor ancestral_noise;
  if (io.Contains("ancestral_noise")) {
    ASSIGN_OR_RETURN(ancestral_noise, io.Load("ancestral_noise", torch::kFloat));
  }
  auto* ancestral = dynamic_cast<diffusion::EulerAncestralScheduler*>(scheduler.get());

  const int64_t n = scheduler->num_steps();
  std::vector<at::Tensor> trajectory{init_noise * scheduler->init_noise_sigma()};
  std::vector<at::Tensor> scaled, outputs;
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor& x = trajectory.back();
    scaled.push_back(scheduler->ScaleModelInput(x, i));
    const double t = scheduler->timesteps()[i].item<double>();
    outputs.push_back(0.1 * x + 0.01 * (t / 1000));
    if (ancestral != nullptr) {
      ASSIGN_OR_RETURN(at::Tensor next, ancestral->StepWithNoise(outputs.back(), i, x, ancestral_noise[i]));
      trajectory.push_back(next);
    } else {
      ASSIGN_OR_RETURN(at::Tensor next, scheduler->Step(outputs.back(), i, x));
      trajectory.push_back(next);
    }
  }
  at::Tensor sigmas;
  if (auto* euler = dynamic_cast<diffusion::EulerFamilyScheduler*>(scheduler.get())) sigmas = euler->sigmas();
  if (auto* dpm = dynamic_cast<diffusion::DpmSolverMultistepScheduler*>(scheduler.get())) sigmas = dpm->sigmas();

  OutputChecker checker(io, s.atol, s.rtol);
  RETURN_IF_ERROR(checker.CheckIfPresent("timesteps", scheduler->timesteps().to(torch::kDouble)));
  if (sigmas.defined()) RETURN_IF_ERROR(checker.CheckIfPresent("sigmas", sigmas));
  RETURN_IF_ERROR(checker.CheckIfPresent("init_noise_sigma", torch::tensor(scheduler->init_noise_sigma())));
  RETURN_IF_ERROR(checker.CheckIfPresent("scaled_model_inputs", torch::stack(scaled)));
  RETURN_IF_ERROR(checker.CheckIfPresent("model_outputs", torch::stack(outputs)));
  RETURN_IF_ERROR(checker.CheckIfPresent("trajectory", torch::stack(trajectory)));
  return checker.result();
}

absl::StatusOr<CaseResult> RunSchedulerForwardProcessCase(const ParityCase& c, const RunOptions& /*options*/) {
  ASSIGN_OR_RETURN(SchedulerCase s, ReadSchedulerCase(c));
  ASSIGN_OR_RETURN(core::JsonConfig config, c.spec.Object("scheduler_config"));
  diffusion::SchedulerChoice choice;
  choice.name = "ddpm";
  ASSIGN_OR_RETURN(std::unique_ptr<diffusion::Scheduler> scheduler, diffusion::CreateScheduler(choice, config));
  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(s.file));
  ASSIGN_OR_RETURN(at::Tensor original, io.Load("original_samples", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor noise, io.Load("noise", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor timesteps, io.Load("timesteps"));
  OutputChecker checker(io, s.atol, s.rtol);
  RETURN_IF_ERROR(checker.CheckIfPresent("betas", scheduler->schedule().betas));
  RETURN_IF_ERROR(checker.CheckIfPresent("alphas_cumprod", scheduler->schedule().alphas_cumprod));
  RETURN_IF_ERROR(checker.CheckIfPresent("noisy_samples", scheduler->AddNoise(original, noise, timesteps)));
  RETURN_IF_ERROR(checker.CheckIfPresent("velocity", scheduler->GetVelocity(original, noise, timesteps)));
  return checker.result();
}

}  // namespace dreamshot::parity

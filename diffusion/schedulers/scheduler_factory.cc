#include "diffusion/schedulers/scheduler_factory.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/ddim.h"
#include "diffusion/schedulers/ddpm.h"
#include "diffusion/schedulers/dpm_solver_multistep.h"
#include "diffusion/schedulers/euler.h"
#include "diffusion/schedulers/euler_ancestral.h"
#include "diffusion/schedulers/pndm.h"

namespace dreamshot::diffusion {
namespace {

enum class Kind { kDdim, kPndm, kDdpm, kEuler, kEulerAncestral, kDpmpp2m, kDpmpp2mKarras };

struct NamedKind {
  const char* short_name;
  const char* class_name;
  Kind kind;
};

constexpr NamedKind kKinds[] = {
    {"ddim", "DDIMScheduler", Kind::kDdim},
    {"pndm", "PNDMScheduler", Kind::kPndm},
    {"ddpm", "DDPMScheduler", Kind::kDdpm},
    {"euler", "EulerDiscreteScheduler", Kind::kEuler},
    {"euler_a", "EulerAncestralDiscreteScheduler", Kind::kEulerAncestral},
    {"dpmpp_2m", "DPMSolverMultistepScheduler", Kind::kDpmpp2m},
    {"dpmpp_2m_karras", nullptr, Kind::kDpmpp2mKarras},
};

template <typename Base, typename Derived>
absl::StatusOr<std::unique_ptr<Base>> CreateAs(absl::StatusOr<std::unique_ptr<Derived>> made) {
  if (!made.ok()) return made.status();
  return std::unique_ptr<Base>(std::move(*made));
}

absl::StatusOr<Kind> KindOf(absl::string_view name) {
  for (const NamedKind& k : kKinds) {
    if (name == k.short_name || (k.class_name != nullptr && name == k.class_name)) return k.kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scheduler \"", name, "\" (", absl::StrJoin(SchedulerNames(), ", "), ")"));
}

}  // namespace

std::vector<std::string> SchedulerNames() {
  std::vector<std::string> names;
  for (const NamedKind& k : kKinds) names.push_back(k.short_name);
  return names;
}

absl::StatusOr<std::string> SchedulerShortName(absl::string_view name) {
  ASSIGN_OR_RETURN(Kind kind, KindOf(name));
  for (const NamedKind& k : kKinds) {
    if (k.kind == kind) return std::string(k.short_name);
  }
  return absl::InternalError("unnamed scheduler kind");
}

absl::StatusOr<std::string> SchedulerShortName(const SchedulerChoice& choice, const core::JsonConfig& config) {
  if (!choice.name.empty()) return SchedulerShortName(choice.name);
  ASSIGN_OR_RETURN(const std::string class_name, config.String("_class_name"));
  ASSIGN_OR_RETURN(std::string name, SchedulerShortName(class_name));
  if (name == "dpmpp_2m") {
    ASSIGN_OR_RETURN(SchedulerConfig schedule, SchedulerConfig::FromJson(config, TimestepSpacing::kLinspace));
    if (schedule.use_karras_sigmas) name = "dpmpp_2m_karras";
  }
  return name;
}

absl::StatusOr<std::unique_ptr<Scheduler>> CreateScheduler(const SchedulerChoice& choice,
                                                           const core::JsonConfig& json) {
  std::string name = choice.name;
  if (name.empty()) {
    ASSIGN_OR_RETURN(name, json.String("_class_name"));
  }
  ASSIGN_OR_RETURN(Kind kind, KindOf(name));
  // The spacing each diffusers scheduler defaults to when the config has none.
  const bool sigma_based = kind == Kind::kEuler || kind == Kind::kEulerAncestral || kind == Kind::kDpmpp2m ||
                           kind == Kind::kDpmpp2mKarras;
  ASSIGN_OR_RETURN(SchedulerConfig config,
                   SchedulerConfig::FromJson(json, sigma_based ? TimestepSpacing::kLinspace : TimestepSpacing::kLeading));
  switch (kind) {
    case Kind::kDdim:
      return CreateAs<Scheduler>(DdimScheduler::Create(config, choice.ddim_eta));
    case Kind::kPndm:
      return CreateAs<Scheduler>(PndmScheduler::Create(config));
    case Kind::kDdpm:
      return CreateAs<Scheduler>(DdpmScheduler::Create(config));
    case Kind::kEuler:
      return CreateAs<Scheduler>(EulerScheduler::Create(config));
    case Kind::kEulerAncestral:
      return CreateAs<Scheduler>(EulerAncestralScheduler::Create(config));
    case Kind::kDpmpp2mKarras:
      config.use_karras_sigmas = true;
      [[fallthrough]];
    case Kind::kDpmpp2m: {
      ASSIGN_OR_RETURN(DpmSolverOptions options, DpmSolverOptions::FromJson(json));
      return CreateAs<Scheduler>(DpmSolverMultistepScheduler::Create(config, options));
    }
  }
  return absl::InternalError("unhandled scheduler kind");
}

absl::StatusOr<std::unique_ptr<Scheduler>> LoadScheduler(const std::string& model_folder,
                                                         const SchedulerChoice& choice) {
  ASSIGN_OR_RETURN(core::JsonConfig json,
                   core::JsonConfig::FromFile(model_folder + "/scheduler/scheduler_config.json"));
  return CreateScheduler(choice, json);
}

}  // namespace dreamshot::diffusion

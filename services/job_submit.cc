#include "services/job_submit.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "services/config_flatten.h"

namespace dreamshot::services {

absl::StatusOr<experiments::JobRunPlan> PlanRun(experiments::ExperimentStore* store, const v1::RunTarget& target,
                                                const google::protobuf::Message& config, std::string kind,
                                                std::string default_name, const std::string& default_experiment,
                                                const std::string& prefix) {
  experiments::JobRunPlan plan;
  plan.run_kind = std::move(kind);
  if (target.run_id() < 0) return absl::InvalidArgumentError("target.run_id must be a positive run id");
  if (target.run_id() > 0) {
    if (!target.experiment().empty()) {
      return absl::InvalidArgumentError("target names both a run and an experiment: give one");
    }
    ASSIGN_OR_RETURN(experiments::Run run, store->GetRun(target.run_id()));
    plan.mode = experiments::RunMode::kAdd;
    plan.run_id = run.id;
    // Several requests may add to one run: each gets its own folder.
    plan.path_prefix = absl::StrCat(prefix, "/", core::NowMillis());
    return plan;
  }
  ASSIGN_OR_RETURN(experiments::Experiment experiment,
                   store->GetOrCreateExperiment(target.experiment().empty() ? default_experiment : target.experiment()));
  plan.mode = experiments::RunMode::kNew;
  plan.experiment_id = experiment.id;
  plan.run_name = target.run_name().empty() ? std::move(default_name) : target.run_name();
  plan.path_prefix = prefix;
  ASSIGN_OR_RETURN(FlattenedConfig flat, FlattenConfig(config));
  plan.params = std::move(flat.params);
  plan.config_type = std::move(flat.type_name);
  plan.config_json = std::move(flat.json);
  return plan;
}

absl::StatusOr<experiments::NewJob> JobFor(const std::string& kind, const std::string& device,
                                           const google::protobuf::Message& request, experiments::JobRunPlan run,
                                           const v1::JobOptions& options) {
  experiments::NewJob job;
  job.kind = kind;
  job.device = device;
  job.priority = options.priority();
  job.config_type = request.GetDescriptor()->full_name();
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  const auto printed = google::protobuf::util::MessageToJsonString(request, &job.config_json, print);
  if (!printed.ok()) return absl::InternalError(absl::StrCat("cannot store the request: ", printed.ToString()));
  job.run = std::move(run);
  return job;
}

}  // namespace dreamshot::services

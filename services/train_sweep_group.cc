#include "services/train_sweep_group.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "services/job_submit.h"
#include "services/train_job.h"

namespace dreamshot::services {

absl::StatusOr<v1::TrainGroupConfig> ReadTrainGroupConfig(const experiments::JobRecord& group) {
  v1::TrainGroupConfig config;
  if (group.config_type != config.GetDescriptor()->full_name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", group.id, " is a ", group.kind, " job, not a group of training jobs"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(group.config_json, &config, options).ok()) {
    return absl::DataLossError(absl::StrCat("job ", group.id, ": its stored config does not read as ",
                                            config.GetDescriptor()->full_name()));
  }
  return config;
}

absl::StatusOr<SubmittedTrainGroup> SubmitTrainGroup(experiments::ExperimentStore* runs, jobs::JobRunner* runner,
                                                     const TrainGroupRequest& request) {
  if (request.children.empty()) return absl::InvalidArgumentError("a group of training jobs needs children");
  if (request.run_config == nullptr) return absl::InvalidArgumentError("a group of training jobs needs a run config");
  if (request.target.run_id() != 0) {
    return absl::InvalidArgumentError(
        "a group of training runs makes a run of its own: give target.experiment, not target.run_id");
  }
  ASSIGN_OR_RETURN(experiments::JobRunPlan plan,
                   PlanRun(runs, request.target, *request.run_config, request.kind, request.name, "training", "group"));
  v1::JobOptions group_options;  // a group has no lane, so no priority
  ASSIGN_OR_RETURN(experiments::NewJob group, JobFor(request.kind, "", request.group, std::move(plan), group_options));

  v1::RunTarget child_target;
  child_target.set_experiment(request.target.experiment());
  std::vector<experiments::NewJob> children;
  for (const TrainGroupChild& child : request.children) {
    ASSIGN_OR_RETURN(experiments::JobRunPlan child_plan,
                     PlanRun(runs, child_target, child.config, kTrainJob, child.name, "training", "lora"));
    ASSIGN_OR_RETURN(experiments::NewJob job,
                     JobFor(kTrainJob, child.config.device(), child.config, std::move(child_plan), request.job));
    children.push_back(std::move(job));
  }
  ASSIGN_OR_RETURN(jobs::GroupSubmitted submitted, runner->SubmitGroup(group, std::move(children)));
  SubmittedTrainGroup out;
  out.parent_job_id = submitted.group.id;
  out.parent_run_id = submitted.group.run.run_id;
  for (const jobs::Submitted& child : submitted.children) out.child_job_ids.push_back(child.job.id);
  return out;
}

jobs::JobKind TrainGroupKind(std::string name) {
  jobs::JobKind kind;
  kind.name = std::move(name);
  kind.max_running_children = [](const experiments::JobRecord& group) {
    absl::StatusOr<v1::TrainGroupConfig> config = ReadTrainGroupConfig(group);
    return config.ok() ? config->max_concurrent() : 0;
  };
  return kind;
}

}  // namespace dreamshot::services

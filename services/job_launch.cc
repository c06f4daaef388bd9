#include "services/job_launch.h"

#include "absl/strings/str_cat.h"
#include "core/time.h"

namespace dreamshot::services {

absl::StatusOr<RunPlan> PlanRun(experiments::ExperimentStore* store, const v1::RunTarget& target,
                                const google::protobuf::Message& config, std::string kind, std::string default_name,
                                const std::string& default_experiment, const std::string& prefix) {
  RunPlan plan;
  plan.kind = std::move(kind);
  if (target.run_id() < 0) return absl::InvalidArgumentError("target.run_id must be a positive run id");
  if (target.run_id() > 0) {
    if (!target.experiment().empty()) {
      return absl::InvalidArgumentError("target names both a run and an experiment: give one");
    }
    ASSIGN_OR_RETURN(experiments::Run run, store->GetRun(target.run_id()));
    plan.existing_run_id = run.id;
    // Several requests may add to one run: each gets its own folder.
    plan.path_prefix = absl::StrCat(prefix, "/", core::NowMillis());
    return plan;
  }
  ASSIGN_OR_RETURN(experiments::Experiment experiment,
                   store->GetOrCreateExperiment(target.experiment().empty() ? default_experiment : target.experiment()));
  plan.experiment_id = experiment.id;
  plan.run_name = target.run_name().empty() ? std::move(default_name) : target.run_name();
  plan.path_prefix = prefix;
  ASSIGN_OR_RETURN(plan.config, FlattenConfig(config));
  return plan;
}

absl::StatusOr<JobRun> JobRun::Start(experiments::ExperimentStore* store, const RunPlan& plan) {
  JobRun job_run;
  job_run.store_ = store;
  if (plan.existing_run_id > 0) {
    job_run.id_ = plan.existing_run_id;
    if (plan.reopen) {
      RETURN_IF_ERROR(store->ReopenRun(plan.existing_run_id, plan.reopen_note).status());
      job_run.owned_ = true;
    }
    return job_run;
  }
  experiments::NewRun run;
  run.experiment_id = plan.experiment_id;
  run.name = plan.run_name;
  run.tags = {{"dreamshot.kind", plan.kind}};
  run.params = plan.config.params;
  run.config_type = plan.config.type_name;
  run.config_json = plan.config.json;
  run.status = experiments::RunStatus::kRunning;
  ASSIGN_OR_RETURN(experiments::Run created, store->CreateRun(run));
  job_run.id_ = created.id;
  job_run.owned_ = true;
  return job_run;
}

void JobRun::End(const absl::Status& outcome) const {
  if (!owned_) return;
  experiments::RunStatus status = experiments::RunStatus::kFinished;
  std::string note;
  if (outcome.code() == absl::StatusCode::kCancelled) {
    status = experiments::RunStatus::kCancelled;
  } else if (!outcome.ok()) {
    status = experiments::RunStatus::kFailed;
    // An event in the run's history (a resumed run may still finish).
    note = absl::StrCat("error at ", experiments::NoteTime(core::NowMillis()), ": ", outcome.ToString());
  }
  (void)store_->EndRun(id_, status, note);  // the client hears the outcome either way
}

}  // namespace dreamshot::services

#include "services/trainer_service.h"

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "services/job_submit.h"
#include "services/train_config.h"
#include "services/train_job.h"
#include "services/train_sweep.h"
#include "services/train_sweep_group.h"
#include "services/train_sweep_status.h"

namespace dreamshot::services {

namespace {

// "pool run 7" or the instance folder's name.
std::string SourceName(const v1::TrainConfig& c) {
  return c.pool_run_id() != 0 ? absl::StrCat("pool run ", c.pool_run_id())
                              : std::filesystem::path(c.instance_dir()).filename().string();
}

std::string TrainingName(const v1::TrainConfig& c) {
  return c.shot_scale().empty() ? SourceName(c) : absl::StrCat(c.shot_scale(), " shots from ", SourceName(c));
}

}  // namespace

grpc::ServerUnaryReactor* TrainerServiceImpl::StartTraining(grpc::CallbackServerContext* context,
                                                            const v1::StartTrainingRequest* request,
                                                            v1::StartTrainingResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    if (request->shot_scales_size() > 0) return StartScales(*request, response);
    v1::StartTrainingRequest resolved = *request;
    RETURN_IF_ERROR(ResolveTrainConfig(resolved.mutable_config(), inputs_));
    const v1::TrainConfig& c = resolved.config();
    ASSIGN_OR_RETURN(experiments::JobRunPlan plan,
                     PlanRun(runs_, resolved.target(), c, kTrainJob, TrainingName(c), "training", "lora"));
    if (plan.mode != experiments::RunMode::kNew) {
      return absl::InvalidArgumentError("training makes a run of its own: give target.experiment, not target.run_id");
    }
    ASSIGN_OR_RETURN(experiments::NewJob job, JobFor(kTrainJob, c.device(), c, std::move(plan), resolved.job()));
    ASSIGN_OR_RETURN(jobs::Submitted submitted, runner_->Submit(job));
    response->set_job_id(submitted.job.id);
    return absl::OkStatus();
  });
}

absl::Status TrainerServiceImpl::StartScales(const v1::StartTrainingRequest& request,
                                             v1::StartTrainingResponse* response) {
  if (!request.config().shot_scale().empty()) {
    return absl::InvalidArgumentError("give config.shot_scale or shot_scales, not both");
  }
  TrainGroupRequest group;
  std::set<std::string> seen;
  // Every scale resolved before anything is stored: a scale the pool lacks
  // refuses all of them.
  for (const std::string& scale : request.shot_scales()) {
    if (!seen.insert(scale).second) {
      return absl::InvalidArgumentError(absl::StrCat("shot_scales names '", scale, "' twice"));
    }
    v1::TrainConfig child = request.config();
    child.set_shot_scale(scale);
    absl::Status resolved = ResolveTrainConfig(&child, inputs_);
    if (!resolved.ok()) {
      return absl::Status(resolved.code(), absl::StrCat("shot scale ", scale, ": ", resolved.message()));
    }
    group.children.push_back({TrainingName(child), std::move(child)});
  }
  group.kind = kTrainScalesJob;
  group.name = absl::StrCat(absl::StrJoin(request.shot_scales(), ", "), " shots from ", SourceName(request.config()));
  group.run_config = &request;
  group.target = request.target();
  group.job = request.job();
  ASSIGN_OR_RETURN(SubmittedTrainGroup submitted, SubmitTrainGroup(runs_, runner_, group));
  response->set_job_id(submitted.parent_job_id);
  response->set_parent_run_id(submitted.parent_run_id);
  for (int64_t id : submitted.child_job_ids) response->add_child_job_ids(id);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* TrainerServiceImpl::LaunchSweep(grpc::CallbackServerContext* context,
                                                          const v1::LaunchSweepRequest* request,
                                                          v1::LaunchSweepResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<SweepChildConfig> expanded, ExpandSweep(request->base(), request->spec()));
    ASSIGN_OR_RETURN(v1::EarlyStop rule, ValidateEarlyStop(request->spec().early_stop()));
    TrainGroupRequest group;
    // Every child resolved before anything is stored: one bad child
    // refuses the sweep.
    for (size_t i = 0; i < expanded.size(); ++i) {
      SweepChildConfig& child = expanded[i];
      absl::Status resolved = ResolveTrainConfig(&child.config, inputs_);
      if (!resolved.ok()) {
        return absl::Status(resolved.code(),
                            absl::StrCat("child ", i + 1, " (", child.name, "): ", resolved.message()));
      }
      if (rule.step() >= child.config.max_train_steps()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "spec.early_stop.step ", rule.step(), " must be below max_train_steps (", child.config.max_train_steps(),
            ") of child ", i + 1, " (", child.name, "): a child stopped at its last step saves nothing"));
      }
      group.children.push_back({child.name, child.config});
    }
    std::vector<std::string> dims;
    for (const auto& [field, value] : expanded.front().values) dims.push_back(field);
    group.kind = kSweepJob;
    group.name = absl::StrCat("sweep ", absl::StrJoin(dims, " × "), " (", expanded.size(), " runs)");
    group.run_config = request;
    group.target = request->target();
    group.job = request->job();
    group.group.set_max_concurrent(request->spec().max_concurrent());
    *group.group.mutable_sweep() = request->spec();
    ASSIGN_OR_RETURN(SubmittedTrainGroup submitted, SubmitTrainGroup(runs_, runner_, group));
    response->set_parent_job_id(submitted.parent_job_id);
    response->set_parent_run_id(submitted.parent_run_id);
    for (size_t i = 0; i < expanded.size(); ++i) {
      v1::SweepChild* child = response->add_children();
      child->set_job_id(submitted.child_job_ids[i]);
      child->set_name(expanded[i].name);
      for (const auto& [field, value] : expanded[i].values) {
        v1::SweepValue* v = child->add_values();
        v->set_field(field);
        v->set_value(value);
      }
      child->set_state(v1::JOB_QUEUED);
      child->set_max_steps(expanded[i].config.max_train_steps());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TrainerServiceImpl::SweepStatus(grpc::CallbackServerContext* context,
                                                          const v1::SweepStatusRequest* request,
                                                          v1::SweepStatusResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(*response, GetSweepStatus(runs_, runner_, request->job_id()));
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::services

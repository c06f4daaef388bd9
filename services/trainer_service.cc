#include "services/trainer_service.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "services/job_submit.h"
#include "services/train_config.h"
#include "services/train_job.h"

namespace dreamshot::services {

grpc::ServerUnaryReactor* TrainerServiceImpl::StartTraining(grpc::CallbackServerContext* context,
                                                            const v1::StartTrainingRequest* request,
                                                            v1::StartTrainingResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    v1::StartTrainingRequest resolved = *request;
    RETURN_IF_ERROR(ResolveTrainConfig(resolved.mutable_config(), inputs_));
    const v1::TrainConfig& c = resolved.config();
    const std::string folder = c.pool_run_id() != 0 ? absl::StrCat("pool run ", c.pool_run_id())
                                                    : std::filesystem::path(c.instance_dir()).filename().string();
    const std::string name = c.shot_scale().empty() ? folder : absl::StrCat(c.shot_scale(), " shots from ", folder);
    ASSIGN_OR_RETURN(experiments::JobRunPlan plan, PlanRun(runs_, resolved.target(), c, kTrainJob, name, "training", "lora"));
    if (plan.mode != experiments::RunMode::kNew) {
      return absl::InvalidArgumentError("training makes a run of its own: give target.experiment, not target.run_id");
    }
    ASSIGN_OR_RETURN(experiments::NewJob job, JobFor(kTrainJob, c.device(), c, std::move(plan), resolved.job()));
    ASSIGN_OR_RETURN(jobs::Submitted submitted, runner_->Submit(job));
    response->set_job_id(submitted.job.id);
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::services

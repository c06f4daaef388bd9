// TrainerService: StartTraining validates a TrainConfig (defaults filled in,
// files checked), plans its run and submits a "train" job
// (services/train_job.h), returning the job id at once; JobService watches,
// cancels and retries it. LaunchSweep expands a SweepSpec
// (services/train_sweep.h), resolves every child and submits them as one
// group (train_sweep_group.h); SweepStatus shows its grid.
#ifndef DREAMSHOT_SERVICES_TRAINER_SERVICE_H_
#define DREAMSHOT_SERVICES_TRAINER_SERVICE_H_

#include "dreamshot/v1/trainer.grpc.pb.h"
#include "experiments/store.h"
#include "jobs/job_runner.h"
#include "services/rpc_guard.h"
#include "services/train_instances.h"

namespace dreamshot::services {

class TrainerServiceImpl final : public v1::TrainerService::CallbackService {
 public:
  TrainerServiceImpl(experiments::ExperimentStore* runs, TrainInputs inputs, jobs::JobRunner* runner,
                     const RpcGuard* guard)
      : runs_(runs), inputs_(inputs), runner_(runner), guard_(guard) {}

  grpc::ServerUnaryReactor* StartTraining(grpc::CallbackServerContext* context,
                                          const v1::StartTrainingRequest* request,
                                          v1::StartTrainingResponse* response) override;
  grpc::ServerUnaryReactor* LaunchSweep(grpc::CallbackServerContext* context, const v1::LaunchSweepRequest* request,
                                        v1::LaunchSweepResponse* response) override;
  grpc::ServerUnaryReactor* SweepStatus(grpc::CallbackServerContext* context, const v1::SweepStatusRequest* request,
                                        v1::SweepStatusResponse* response) override;

 private:
  // StartTraining over several shot scales: a group of trainings.
  absl::Status StartScales(const v1::StartTrainingRequest& request, v1::StartTrainingResponse* response);

  experiments::ExperimentStore* runs_;
  TrainInputs inputs_;
  jobs::JobRunner* runner_;
  const RpcGuard* guard_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAINER_SERVICE_H_

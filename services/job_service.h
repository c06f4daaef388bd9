// JobService: list, inspect, watch, cancel and retry the jobs that the
// other services submit (jobs/job_runner.h runs them).
#ifndef DREAMSHOT_SERVICES_JOB_SERVICE_H_
#define DREAMSHOT_SERVICES_JOB_SERVICE_H_

#include "dreamshot/v1/job.grpc.pb.h"
#include "jobs/job_runner.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

class JobServiceImpl final : public v1::JobService::CallbackService {
 public:
  JobServiceImpl(jobs::JobRunner* runner, const RpcGuard* guard) : runner_(runner), guard_(guard) {}

  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context, const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context, const v1::GetJobRequest* request,
                                   v1::Job* response) override;
  grpc::ServerWriteReactor<v1::JobEvent>* WatchJob(grpc::CallbackServerContext* context,
                                                   const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context, const v1::CancelJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerUnaryReactor* RetryJob(grpc::CallbackServerContext* context, const v1::RetryJobRequest* request,
                                     v1::RetryJobResponse* response) override;

 private:
  jobs::JobRunner* runner_;
  const RpcGuard* guard_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_JOB_SERVICE_H_

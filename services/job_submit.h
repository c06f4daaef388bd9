// How a service turns a validated request into a job: where its run goes
// (PlanRun, from the request's RunTarget), the job's config (the request
// itself, stored so that a restart or a retry runs it again), submission,
// and a stream that follows the job until it ends.
#ifndef DREAMSHOT_SERVICES_JOB_SUBMIT_H_
#define DREAMSHOT_SERVICES_JOB_SUBMIT_H_

#include <google/protobuf/message.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dreamshot/v1/common.pb.h"
#include "experiments/job_types.h"
#include "experiments/store.h"
#include "jobs/job_runner.h"
#include "rpc/grpc_status.h"
#include "services/job_stream.h"
#include "services/job_watch.h"

namespace dreamshot::services {

// A run plan from a request's target: a new run named target.run_name
// (else `default_name`) in target.experiment (else `default_experiment`)
// whose params and config are `config`, or the existing target.run_id,
// whose artifacts then go to "<prefix>/<ms>/" so that several requests can
// add to one run. INVALID_ARGUMENT for a target naming both; NOT_FOUND for
// a missing run.
absl::StatusOr<experiments::JobRunPlan> PlanRun(experiments::ExperimentStore* store, const v1::RunTarget& target,
                                                const google::protobuf::Message& config, std::string kind,
                                                std::string default_name, const std::string& default_experiment,
                                                const std::string& prefix);

// A job of `kind` on `device` whose config is `request` (as JSON).
absl::StatusOr<experiments::NewJob> JobFor(const std::string& kind, const std::string& device,
                                           const google::protobuf::Message& request,
                                           experiments::JobRunPlan run, const v1::JobOptions& options);

// A stream that ends at once with `status` (a request refused before queueing).
template <typename Response>
grpc::ServerWriteReactor<Response>* Refuse(const absl::Status& status) {
  auto* stream = new JobStream<Response>();
  stream->Close(rpc::ToGrpcStatus(status));
  return stream;
}

// Submits `job` and follows it: a "queued" progress message saying how many
// jobs are ahead, then the job's own messages, until it ends.
template <typename Response>
grpc::ServerWriteReactor<Response>* SubmitAndStream(jobs::JobRunner* runner,
                                                    const absl::StatusOr<experiments::NewJob>& job, bool detach) {
  if (!job.ok()) return Refuse<Response>(job.status());
  absl::StatusOr<jobs::Submitted> submitted = runner->Submit(*job);
  if (!submitted.ok()) return Refuse<Response>(submitted.status());
  Response queued;
  queued.mutable_progress()->set_message("queued");
  queued.mutable_progress()->set_queue_position(submitted->ahead);
  return StreamJob<Response>(runner, *submitted, detach, std::move(queued));
}

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_JOB_SUBMIT_H_

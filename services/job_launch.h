// Running a request as a job on a WorkQueue with a run in the experiment
// store: where its run and artifacts go (RunPlan, settled before queueing),
// the run's life (JobRun: created or reopened when the job starts, ended
// with its outcome) and Launch, which wires a server stream, the queue and
// client cancellation together. Shared by the generator and dataset services.
#ifndef DREAMSHOT_SERVICES_JOB_LAUNCH_H_
#define DREAMSHOT_SERVICES_JOB_LAUNCH_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/status_macros.h"
#include "core/work_queue.h"
#include "dreamshot/v1/common.pb.h"
#include "experiments/store.h"
#include "services/config_flatten.h"
#include "services/grpc_status.h"
#include "services/job_stream.h"

namespace dreamshot::services {

// Where a job's run and artifacts go, settled before the job is queued.
struct RunPlan {
  int64_t existing_run_id = 0;  // 0: create a run when the job starts
  // With existing_run_id: the job continues that run (a resumed build): it
  // is reopened when the job starts, with this note, and ended with the
  // job's outcome. Without: the run is only added to and left as it was.
  bool reopen = false;
  std::string reopen_note;
  int64_t experiment_id = 0;
  std::string run_name;
  std::string kind;  // the run's "dreamshot.kind" tag
  std::string path_prefix;
  FlattenedConfig config;
};

// A plan from a request's target: a new run named target.run_name (else
// `default_name`) in target.experiment (else `default_experiment`) whose
// params and config are `config`, or the existing target.run_id, whose
// artifacts then go to "<prefix>/<ms>/" so that several requests can add to
// one run. INVALID_ARGUMENT for a target naming both; NOT_FOUND for a
// missing run.
absl::StatusOr<RunPlan> PlanRun(experiments::ExperimentStore* store, const v1::RunTarget& target,
                                const google::protobuf::Message& config, std::string kind, std::string default_name,
                                const std::string& default_experiment, const std::string& prefix);

// The run of a job: created (or reopened) when the job starts, so a request
// refused by a full queue or cancelled while waiting leaves no run behind,
// and ended with the job's outcome. A run the caller named is left as it was.
class JobRun {
 public:
  static absl::StatusOr<JobRun> Start(experiments::ExperimentStore* store, const RunPlan& plan);
  int64_t id() const { return id_; }
  // finished / cancelled / failed (the error appended to the run's notes).
  void End(const absl::Status& outcome) const;

 private:
  experiments::ExperimentStore* store_ = nullptr;
  int64_t id_ = 0;
  bool owned_ = false;
};

// Opened once the RPC thread is done with the stream and the queue handle:
// until then neither the job nor its completion may touch them.
class Latch {
 public:
  void Open() { promise_.set_value(); }
  void Wait() { future_.wait(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> future_ = promise_.get_future().share();
};

// Cancels a job whose handle may not exist yet when the client cancels.
class CancelSlot {
 public:
  explicit CancelSlot(core::WorkQueue* queue) : queue_(queue) {}
  void Set(std::shared_ptr<core::JobHandle> handle) {
    bool cancel_now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      handle_ = std::move(handle);
      cancel_now = cancelled_;
    }
    if (cancel_now) queue_->Cancel(handle_);
  }
  void Cancel() {
    std::shared_ptr<core::JobHandle> handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      handle = handle_;
    }
    if (handle) queue_->Cancel(handle);
  }

 private:
  core::WorkQueue* queue_;
  std::mutex mu_;
  std::shared_ptr<core::JobHandle> handle_;
  bool cancelled_ = false;
};

// Queues `body` (given the stream, the run id and the cancel flag) as a
// job on `queue` for a run planned by `plan`, and wires cancellation.
template <typename Response, typename Body>
grpc::ServerWriteReactor<Response>* Launch(experiments::ExperimentStore* store, core::WorkQueue& queue, RunPlan plan,
                                           Body body) {
  auto* stream = new JobStream<Response>();
  auto latch = std::make_shared<Latch>();
  auto slot = std::make_shared<CancelSlot>(&queue);
  stream->set_on_cancel([slot] { slot->Cancel(); });
  const int ahead = queue.load();
  auto job = [store, stream, latch, plan = std::move(plan),
              body = std::move(body)](const core::CancelFlag& flag) -> absl::Status {
    latch->Wait();
    ASSIGN_OR_RETURN(JobRun run, JobRun::Start(store, plan));
    absl::Status status = body(stream, run.id(), plan.path_prefix, flag);
    run.End(status);
    return status;
  };
  absl::StatusOr<std::shared_ptr<core::JobHandle>> handle =
      queue.Submit(std::move(job), [stream, latch](const absl::Status& status) {
        latch->Wait();
        stream->Close(ToGrpcStatus(status));
      });
  if (!handle.ok()) {
    stream->Close(ToGrpcStatus(handle.status()));
    return stream;
  }
  Response queued;
  queued.mutable_progress()->set_message("queued");
  queued.mutable_progress()->set_queue_position(ahead);
  stream->Push(std::move(queued), /*coalescable=*/true);
  slot->Set(*handle);
  latch->Open();
  return stream;
}

// A stream that ends at once with `status` (a request refused before queueing).
template <typename Response>
grpc::ServerWriteReactor<Response>* Refuse(const absl::Status& status) {
  auto* stream = new JobStream<Response>();
  stream->Close(ToGrpcStatus(status));
  return stream;
}

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_JOB_LAUNCH_H_

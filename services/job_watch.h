// A call that submitted a job follows it: its stream is a watcher of the
// job (jobs/job_events.h) that turns the job's events into the service's own
// messages, and the call ends with the job. A client that cancels the call
// cancels the job, unless the request said `job.detach`; either way the job
// can be watched again through JobService.WatchJob.
//
// Closing is decided once, under a lock that the watcher also holds while
// it pushes: after the stream is closed (and may be deleted by gRPC) no
// watcher touches it.
#ifndef DREAMSHOT_SERVICES_JOB_WATCH_H_
#define DREAMSHOT_SERVICES_JOB_WATCH_H_

#include <grpcpp/support/server_callback.h>

#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "jobs/job_runner.h"
#include "rpc/grpc_status.h"
#include "services/job_convert.h"
#include "services/job_stream.h"

namespace dreamshot::services {

// Who closes a call first: the job's end, the server stopping, or the client.
class CallCloser {
 public:
  // Runs `close` unless closed already; returns whether it ran.
  template <typename Fn>
  bool CloseOnce(Fn close) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    closed_ = true;
    close();
    return true;
  }
  // Runs `use` unless closed; returns whether it ran.
  template <typename Fn>
  bool IfOpen(Fn use) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    use();
    return true;
  }
  void set_watch(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    watch_ = id;
  }
  int64_t watch() {
    std::lock_guard<std::mutex> lock(mu_);
    return watch_;
  }

 private:
  std::mutex mu_;
  bool closed_ = false;
  int64_t watch_ = 0;
};

// Whether `event` ends a call that follows the job, and with what status:
// the job ended (its outcome) or the server stops.
inline std::optional<absl::Status> CallEnd(const jobs::JobEvent& event) {
  if (event.type == jobs::JobEvent::Type::kServerStopping) return StoppingOutcome(event.job);
  if (event.type == jobs::JobEvent::Type::kState && experiments::IsTerminal(event.job.state)) {
    return OutcomeOf(event.job);
  }
  return std::nullopt;
}

// Streams the job `submitted` as Response messages: `first` (the queued
// notice), then the job's progress and outputs of type Response, until it
// ends.
template <typename Response>
grpc::ServerWriteReactor<Response>* StreamJob(jobs::JobRunner* runner, const jobs::Submitted& submitted, bool detach,
                                              Response first) {
  auto* stream = new JobStream<Response>();
  auto closer = std::make_shared<CallCloser>();
  const int64_t job_id = submitted.job.id;
  stream->set_on_cancel([runner, job_id, detach, closer, stream] {
    if (!detach) (void)runner->Cancel(job_id);
    runner->Unwatch(job_id, closer->watch());
    closer->CloseOnce([&] { stream->Close(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled")); });
  });
  first.set_job_id(job_id);
  stream->Push(std::move(first), /*coalescable=*/true);
  auto sink = [stream, closer, job_id](const jobs::JobEvent& event) -> bool {
    using Type = jobs::JobEvent::Type;
    if (std::optional<absl::Status> end = CallEnd(event)) {
      closer->CloseOnce([&] { stream->Close(rpc::ToGrpcStatus(*end)); });
      return false;
    }
    if (event.type != Type::kOutput && event.type != Type::kProgress) return true;
    if (event.payload_type != Response::descriptor()->full_name()) return true;
    Response message;
    if (!message.ParseFromString(event.payload)) return true;
    message.set_job_id(job_id);
    return closer->IfOpen([&] { stream->Push(std::move(message), event.type == Type::kProgress); });
  };
  absl::StatusOr<int64_t> watch = runner->Watch(job_id, 0, std::move(sink));
  if (!watch.ok()) {
    closer->CloseOnce([&] { stream->Close(rpc::ToGrpcStatus(watch.status())); });
  } else {
    closer->set_watch(*watch);
  }
  return stream;
}

// A unary call answered by a job's last output of type Response.
template <typename Response>
class UnaryJobReactor final : public grpc::ServerUnaryReactor {
 public:
  // Submits nothing: follows `job_id` on `runner` and fills `response`.
  static UnaryJobReactor* Follow(jobs::JobRunner* runner, int64_t job_id, Response* response) {
    auto* reactor = new UnaryJobReactor(runner, job_id, response);
    auto closer = reactor->closer_;
    auto sink = [reactor, closer, response](const jobs::JobEvent& event) -> bool {
      if (std::optional<absl::Status> end = CallEnd(event)) {
        closer->CloseOnce([&] { reactor->Finish(rpc::ToGrpcStatus(*end)); });
        return false;
      }
      if (event.type == jobs::JobEvent::Type::kOutput && event.payload_type == Response::descriptor()->full_name()) {
        closer->IfOpen([&] { response->ParseFromString(event.payload); });
      }
      return true;
    };
    absl::StatusOr<int64_t> watch = runner->Watch(job_id, 0, std::move(sink));
    if (!watch.ok()) {
      closer->CloseOnce([&] { reactor->Finish(rpc::ToGrpcStatus(watch.status())); });
    } else {
      closer->set_watch(*watch);
    }
    return reactor;
  }
  static UnaryJobReactor* Refuse(const absl::Status& status) {
    auto* reactor = new UnaryJobReactor(nullptr, 0, nullptr);
    reactor->closer_->CloseOnce([&] { reactor->Finish(rpc::ToGrpcStatus(status)); });
    return reactor;
  }

  void OnCancel() override {
    if (runner_ == nullptr) return;
    (void)runner_->Cancel(job_id_);
    runner_->Unwatch(job_id_, closer_->watch());
    closer_->CloseOnce([&] { Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled")); });
  }
  void OnDone() override { delete this; }

 private:
  UnaryJobReactor(jobs::JobRunner* runner, int64_t job_id, Response* response)
      : runner_(runner), job_id_(job_id), closer_(std::make_shared<CallCloser>()) {}

  jobs::JobRunner* runner_;
  int64_t job_id_;
  std::shared_ptr<CallCloser> closer_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_JOB_WATCH_H_

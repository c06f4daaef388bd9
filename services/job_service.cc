#include "services/job_service.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "rpc/grpc_status.h"
#include "services/job_convert.h"
#include "services/job_stream.h"
#include "services/job_submit.h"
#include "services/job_watch.h"

namespace dreamshot::services {

using rpc::ToGrpcStatus;

namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

absl::Status RequireJob(int64_t id) {
  if (id <= 0) return absl::InvalidArgumentError("job_id must be a positive job id");
  return absl::OkStatus();
}

}  // namespace

ServerUnaryReactor* JobServiceImpl::ListJobs(CallbackServerContext* context, const v1::ListJobsRequest* request,
                                             v1::ListJobsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    experiments::JobQuery query;
    for (int state : request->states()) {
      ASSIGN_OR_RETURN(experiments::JobState s, FromProto(static_cast<v1::JobState>(state)));
      query.states.push_back(s);
    }
    query.kind = request->kind();
    query.device = request->device();
    if (request->parent_id() < 0) return absl::InvalidArgumentError("parent_id must be a job id or 0");
    if (request->parent_id() > 0) query.parent_id = request->parent_id();
    if (request->page_size() < 0 || request->page_size() > kMaxPageSize) {
      return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kMaxPageSize));
    }
    query.limit = request->page_size() > 0 ? request->page_size() : kDefaultPageSize;
    if (!request->page_token().empty() &&
        (!absl::SimpleAtoi(request->page_token(), &query.after_id) || query.after_id <= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("page_token '", request->page_token(), "' is not one we gave"));
    }
    // One more than asked tells whether another page follows.
    ++query.limit;
    ASSIGN_OR_RETURN(std::vector<experiments::JobRecord> jobs, runner_->store().List(query));
    const bool more = static_cast<int>(jobs.size()) == query.limit;
    if (more) jobs.pop_back();
    for (const auto& job : jobs) ToProto(job, response->add_jobs());
    if (more) response->set_next_page_token(absl::StrCat(jobs.back().id));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* JobServiceImpl::GetJob(CallbackServerContext* context, const v1::GetJobRequest* request,
                                           v1::Job* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireJob(request->job_id()));
    ASSIGN_OR_RETURN(experiments::JobRecord job, runner_->store().Get(request->job_id()));
    ToProto(job, response);
    return absl::OkStatus();
  });
}

// A watcher never cancels the job: going away only detaches it.
grpc::ServerWriteReactor<v1::JobEvent>* JobServiceImpl::WatchJob(CallbackServerContext* context,
                                                                const v1::WatchJobRequest* request) {
  using Response = v1::JobEvent;
  absl::Status status = guard_->Authenticate(*context);
  if (status.ok()) status = RequireJob(request->job_id());
  if (status.ok() && request->after_seq() < 0) status = absl::InvalidArgumentError("after_seq must not be negative");
  if (!status.ok()) return Refuse<Response>(status);
  auto* stream = new JobStream<Response>();
  auto closer = std::make_shared<CallCloser>();
  const int64_t job_id = request->job_id();
  jobs::JobRunner* runner = runner_;
  stream->set_on_cancel([runner, job_id, closer, stream] {
    runner->Unwatch(job_id, closer->watch());
    closer->CloseOnce([&] { stream->Close(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled")); });
  });
  auto sink = [stream, closer](const jobs::JobEvent& event) -> bool {
    using Type = jobs::JobEvent::Type;
    if (event.type == Type::kServerStopping) {
      closer->CloseOnce([&] { stream->Close(ToGrpcStatus(StoppingOutcome(event.job))); });
      return false;
    }
    v1::JobEvent message;
    ToProto(event, &message);
    closer->IfOpen([&] { stream->Push(std::move(message), event.type == Type::kProgress); });
    // The watch itself went well whatever the job's outcome: the last
    // event says it.
    if (!CallEnd(event).has_value()) return true;
    closer->CloseOnce([&] { stream->Close(grpc::Status::OK); });
    return false;
  };
  absl::StatusOr<int64_t> watch = runner_->Watch(job_id, request->after_seq(), std::move(sink));
  if (!watch.ok()) {
    closer->CloseOnce([&] { stream->Close(ToGrpcStatus(watch.status())); });
  } else {
    closer->set_watch(*watch);
  }
  return stream;
}

ServerUnaryReactor* JobServiceImpl::CancelJob(CallbackServerContext* context, const v1::CancelJobRequest* request,
                                              v1::Job* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireJob(request->job_id()));
    ASSIGN_OR_RETURN(experiments::JobRecord job, runner_->Cancel(request->job_id()));
    ToProto(job, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* JobServiceImpl::RetryJob(CallbackServerContext* context, const v1::RetryJobRequest* request,
                                             v1::RetryJobResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireJob(request->job_id()));
    ASSIGN_OR_RETURN(std::vector<experiments::JobRecord> jobs, runner_->Retry(request->job_id()));
    for (const auto& job : jobs) ToProto(job, response->add_jobs());
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::services

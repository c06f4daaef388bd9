#include "services/job_convert.h"

#include "absl/strings/str_cat.h"

namespace dreamshot::services {

using experiments::JobState;

namespace {

v1::JobState ToProto(JobState state) {
  switch (state) {
    case JobState::kQueued: return v1::JOB_QUEUED;
    case JobState::kRunning: return v1::JOB_RUNNING;
    case JobState::kFinished: return v1::JOB_FINISHED;
    case JobState::kFailed: return v1::JOB_FAILED;
    case JobState::kCancelled: return v1::JOB_CANCELLED;
    case JobState::kInterrupted: return v1::JOB_INTERRUPTED;
  }
  return v1::JOB_STATE_UNSPECIFIED;
}

std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

absl::StatusOr<JobState> FromProto(v1::JobState state) {
  switch (state) {
    case v1::JOB_QUEUED: return JobState::kQueued;
    case v1::JOB_RUNNING: return JobState::kRunning;
    case v1::JOB_FINISHED: return JobState::kFinished;
    case v1::JOB_FAILED: return JobState::kFailed;
    case v1::JOB_CANCELLED: return JobState::kCancelled;
    case v1::JOB_INTERRUPTED: return JobState::kInterrupted;
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat("states: ", static_cast<int>(state), " is not a job state"));
}

void ToProto(const experiments::JobRecord& job, v1::Job* out) {
  out->set_id(job.id);
  out->set_kind(job.kind);
  out->set_state(ToProto(job.state));
  out->set_device(job.device);
  out->set_priority(job.priority);
  out->set_owner(experiments::JobOwnerName(job.owner));
  out->set_parent_id(job.parent_id);
  out->set_run_id(job.run.run_id);
  out->set_attempts(job.attempts);
  out->set_auto_retries(job.auto_retries);
  if (job.error_code != 0) out->set_error_code(CodeName(job.error_code));
  out->set_error(job.error);
  out->set_created_ms(job.created_ms);
  out->set_started_ms(job.started_ms.value_or(0));
  out->set_ended_ms(job.ended_ms.value_or(0));
  out->set_children(job.children);
  out->set_config_type(job.config_type);
  out->set_config_json(job.config_json);
}

void ToProto(const jobs::JobEvent& event, v1::JobEvent* out) {
  out->set_seq(event.seq);
  const std::string type_url = absl::StrCat("type.googleapis.com/", event.payload_type);
  switch (event.type) {
    case jobs::JobEvent::Type::kState:
    case jobs::JobEvent::Type::kServerStopping:
      ToProto(event.job, out->mutable_job());
      break;
    case jobs::JobEvent::Type::kProgress:
      out->mutable_progress()->set_type_url(type_url);
      out->mutable_progress()->set_value(event.payload);
      break;
    case jobs::JobEvent::Type::kOutput:
      out->mutable_output()->set_type_url(type_url);
      out->mutable_output()->set_value(event.payload);
      break;
    case jobs::JobEvent::Type::kGap:
      out->set_missed(event.missed);
      break;
  }
}

absl::Status OutcomeOf(const experiments::JobRecord& job) {
  switch (job.state) {
    case JobState::kFinished:
      return absl::OkStatus();
    case JobState::kInterrupted:
      return absl::UnavailableError(absl::StrCat("job ", job.id, " was interrupted (", job.error,
                                                 "); `dreamshot jobs retry ", job.id, "` runs it again"));
    default:
      break;
  }
  const auto code = static_cast<absl::StatusCode>(job.error_code);
  return absl::Status(code == absl::StatusCode::kOk ? absl::StatusCode::kUnknown : code, job.error);
}

absl::Status StoppingOutcome(const experiments::JobRecord& job) {
  if (job.state == JobState::kQueued) {
    return absl::UnavailableError(absl::StrCat("the server is stopping; job ", job.id,
                                               " stays queued and runs when it starts again (`dreamshot jobs watch ",
                                               job.id, "`)"));
  }
  return absl::UnavailableError(absl::StrCat("the server is stopping (job ", job.id, " is ",
                                             experiments::JobStateName(job.state), ")"));
}

}  // namespace dreamshot::services

#include "experiments/job_types.h"

#include "absl/strings/str_cat.h"

namespace dreamshot::experiments {
namespace {

constexpr JobState kJobStates[] = {JobState::kQueued,   JobState::kRunning,   JobState::kFinished,
                                   JobState::kFailed,   JobState::kCancelled, JobState::kInterrupted};
constexpr RunMode kRunModes[] = {RunMode::kNone, RunMode::kNew, RunMode::kAdd, RunMode::kResume};

}  // namespace

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kFinished: return "finished";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
    case JobState::kInterrupted: return "interrupted";
  }
  return "?";
}

absl::StatusOr<JobState> ParseJobState(absl::string_view name) {
  for (JobState s : kJobStates) {
    if (name == JobStateName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown job state '", name, "' (expected queued, running, finished, failed, cancelled or interrupted)"));
}

bool IsTerminal(JobState state) { return state != JobState::kQueued && state != JobState::kRunning; }

bool IsRetryable(JobState state) {
  return state == JobState::kFailed || state == JobState::kCancelled || state == JobState::kInterrupted;
}

const char* JobOwnerName(JobOwner owner) { return owner == JobOwner::kServer ? "server" : "client"; }

const char* RunModeName(RunMode mode) {
  switch (mode) {
    case RunMode::kNone: return "none";
    case RunMode::kNew: return "new";
    case RunMode::kAdd: return "add";
    case RunMode::kResume: return "resume";
  }
  return "?";
}

absl::StatusOr<RunMode> ParseRunMode(absl::string_view name) {
  for (RunMode m : kRunModes) {
    if (name == RunModeName(m)) return m;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown run mode '", name, "'"));
}

}  // namespace dreamshot::experiments

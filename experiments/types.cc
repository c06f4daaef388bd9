#include "experiments/types.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace dreamshot::experiments {

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued:
      return "queued";
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kFinished:
      return "finished";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

absl::StatusOr<RunStatus> ParseRunStatus(absl::string_view name) {
  for (RunStatus s : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kFinished,
                      RunStatus::kFailed, RunStatus::kCancelled}) {
    if (name == RunStatusName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown run status '", name, "' (expected queued, running, finished, failed or cancelled)"));
}

bool IsTerminal(RunStatus status) {
  return status == RunStatus::kFinished || status == RunStatus::kFailed ||
         status == RunStatus::kCancelled;
}

std::string NoteTime(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

}  // namespace dreamshot::experiments

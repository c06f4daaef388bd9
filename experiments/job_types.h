// The rows of the jobs table: what the store keeps of a job so that a queued
// job survives a restart and an interrupted one can resume (jobs/ runs them).
#ifndef DREAMSHOT_EXPERIMENTS_JOB_TYPES_H_
#define DREAMSHOT_EXPERIMENTS_JOB_TYPES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::experiments {

// queued → running → finished | failed | cancelled | interrupted. A failed,
// cancelled or interrupted job may be queued again (a retry, or an automatic
// resume after a restart); finished is final.
enum class JobState { kQueued, kRunning, kFinished, kFailed, kCancelled, kInterrupted };
const char* JobStateName(JobState state);
absl::StatusOr<JobState> ParseJobState(absl::string_view name);
bool IsTerminal(JobState state);
// Failed, cancelled or interrupted: a retry may queue it again.
bool IsRetryable(JobState state);

// Who drives the job. The server runs its own jobs and recovers them after a
// restart; a client's job (a training script, a job on a cluster) is only
// recorded here, and a restart never touches it or its run.
enum class JobOwner { kServer, kClient };
const char* JobOwnerName(JobOwner owner);

// How a job comes by its run.
enum class RunMode {
  kNone,    // no run (a parent that groups other jobs)
  kNew,     // a run created when the job first starts, ended with the job
  kAdd,     // adds to an existing run and leaves its status alone
  kResume,  // continues an existing run: reopened at start, ended with the job
};
const char* RunModeName(RunMode mode);
absl::StatusOr<RunMode> ParseRunMode(absl::string_view name);

// What the run of a kNew job is created with, and where artifacts go.
struct JobRunPlan {
  RunMode mode = RunMode::kNone;
  int64_t run_id = 0;          // kAdd / kResume: the run
  int64_t experiment_id = 0;   // kNew
  std::string run_name;        // kNew
  std::string run_kind;        // kNew: the run's "dreamshot.kind" tag
  std::map<std::string, std::string> params;  // kNew
  std::string config_type;     // kNew: the run's config (may differ from the job's)
  std::string config_json;
  std::string path_prefix;     // artifacts go under it
  std::string reopen_note;     // kResume: appended to the run's notes at start
};

struct NewJob {
  std::string kind;
  std::string device;  // the lane it runs in ("cpu", "cuda:0", "dataset"); "" for a parent
  int priority = 0;    // higher first; equal priorities in submission order
  JobOwner owner = JobOwner::kServer;
  int64_t parent_id = 0;
  std::string config_type;  // the job's config message: what its body reads
  std::string config_json;
  JobRunPlan run;
  // A parent (RunMode kNone and no device) is created running; others queued.
  bool group = false;
};

struct JobRecord {
  int64_t id = 0;
  std::string kind;
  JobState state = JobState::kQueued;
  std::string device;
  int priority = 0;
  JobOwner owner = JobOwner::kServer;
  int64_t parent_id = 0;
  std::string config_type;
  std::string config_json;
  JobRunPlan run;       // run.run_id: the job's run once it has one
  int attempts = 0;     // times started
  int auto_retries = 0; // times queued again automatically since the last manual retry
  int error_code = 0;   // absl::StatusCode of a failed / cancelled / interrupted job
  std::string error;
  int64_t created_ms = 0;
  std::optional<int64_t> started_ms;
  std::optional<int64_t> ended_ms;
  int64_t children = 0;  // parents: how many jobs name it
};

struct JobQuery {
  std::vector<JobState> states;  // empty: any
  std::string kind;
  std::string device;
  std::optional<int64_t> parent_id;  // 0: top-level jobs only
  int64_t after_id = 0;              // page on: ids below it (newest first)
  int limit = 100;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_JOB_TYPES_H_

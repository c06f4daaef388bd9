// The persistent job queue: one row per job in the experiment store's
// database, beside the runs they make. Every state change is one transaction
// that checks the state it leaves, so two threads (a worker ending a job, a
// client cancelling it) cannot both move one job.
#ifndef DREAMSHOT_EXPERIMENTS_JOB_STORE_H_
#define DREAMSHOT_EXPERIMENTS_JOB_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/job_types.h"

namespace dreamshot::experiments {

class Database;

class JobStore {
 public:
  // `db` outlives the JobStore (the ExperimentStore's, see store.h).
  explicit JobStore(Database* db) : db_(db) {}

  // Queued (running for a group). NOT_FOUND for a missing parent or run.
  absl::StatusOr<JobRecord> Create(const NewJob& job);
  // NOT_FOUND naming the id.
  absl::StatusOr<JobRecord> Get(int64_t id);
  // Newest first.
  absl::StatusOr<std::vector<JobRecord>> List(const JobQuery& query);
  // Queued jobs of a lane (device), highest priority first, then oldest.
  absl::StatusOr<std::vector<JobRecord>> Queued(const std::string& device);
  // Queued or running jobs of a lane.
  absl::StatusOr<int64_t> CountActive(const std::string& device);
  // Lanes that have queued jobs.
  absl::StatusOr<std::vector<std::string>> QueuedDevices();

  // queued → running, counting the attempt. FAILED_PRECONDITION otherwise.
  absl::StatusOr<JobRecord> MarkStarted(int64_t id);
  // The run a job made (kNew) once it exists.
  absl::Status SetRun(int64_t id, int64_t run_id);
  // queued | running → a terminal state, with the error of a job that did
  // not finish. FAILED_PRECONDITION naming the state it is in otherwise.
  absl::StatusOr<JobRecord> End(int64_t id, JobState state, int error_code, const std::string& error);
  // failed | cancelled | interrupted → queued. `automatic` counts an
  // automatic resume; a manual retry starts that count again.
  // FAILED_PRECONDITION naming the state otherwise.
  absl::StatusOr<JobRecord> Requeue(int64_t id, bool automatic, const std::string& reopen_note);
  // A group ends when none of its children is queued or running: finished
  // if all finished, else failed naming how many did not. Running again
  // when a child is queued again. Returns the group as it is now.
  absl::StatusOr<JobRecord> SettleGroup(int64_t id);

  // Every running server job → interrupted ("the server stopped while it
  // ran"): for a server that holds the store's lock and so knows no one runs
  // them. Client jobs are left alone. Returns the jobs it interrupted.
  absl::StatusOr<std::vector<JobRecord>> InterruptRunning(const std::string& reason);

 private:
  Database* db_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_JOB_STORE_H_

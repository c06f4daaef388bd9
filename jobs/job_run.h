// A job's run: made (or reopened) when the job starts, so a job refused or
// cancelled while queued leaves no run behind, and ended with the job's
// outcome. A run the job only adds to (someone else's) is left as it was.
#ifndef DREAMSHOT_JOBS_JOB_RUN_H_
#define DREAMSHOT_JOBS_JOB_RUN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/job_store.h"
#include "experiments/job_types.h"

namespace dreamshot::experiments {
class ExperimentStore;
}

namespace dreamshot::jobs {

// Whether the job's outcome is its run's outcome.
bool OwnsRun(const experiments::JobRecord& job);

// The run id the job logs into this attempt: a new run for a first start
// (recorded on the job; the child of its group's run when the group has
// one), the job's run reopened (with the plan's note and the time) when it
// resumes, or the run it adds to.
absl::StatusOr<int64_t> StartJobRun(experiments::ExperimentStore& store, experiments::JobStore& jobs,
                                    const experiments::JobRecord& job);

// Ends an owned run: finished / cancelled / failed (the error, with its
// time, appended to the notes as an event, so a run resumed later and
// finished does not read as failed; a cancel too when `note_cancel`, for a
// cancel with a reason). Best effort: the job's own row says what happened
// either way.
void EndJobRun(experiments::ExperimentStore& store, const experiments::JobRecord& job, int64_t run_id,
               experiments::JobState state, const absl::Status& outcome, bool note_cancel = false);

// Where an attempt's artifacts go (see JobContext::path_prefix).
std::string AttemptPrefix(const experiments::JobRecord& job, bool resumable);

}  // namespace dreamshot::jobs

#endif  // DREAMSHOT_JOBS_JOB_RUN_H_

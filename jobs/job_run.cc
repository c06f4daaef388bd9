#include "jobs/job_run.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/store.h"

namespace dreamshot::jobs {

using experiments::JobRecord;
using experiments::JobState;
using experiments::RunMode;

bool OwnsRun(const JobRecord& job) { return job.run.mode == RunMode::kNew || job.run.mode == RunMode::kResume; }

absl::StatusOr<int64_t> StartJobRun(experiments::ExperimentStore& store, experiments::JobStore& jobs,
                                    const JobRecord& job) {
  switch (job.run.mode) {
    case RunMode::kNone:
      return 0;
    case RunMode::kAdd:
      RETURN_IF_ERROR(store.GetRun(job.run.run_id).status());
      return job.run.run_id;
    case RunMode::kResume: {
      const std::string note =
          job.run.reopen_note.empty()
              ? std::string()
              : absl::StrCat(job.run.reopen_note, " at ", experiments::NoteTime(core::NowMillis()));
      RETURN_IF_ERROR(store.ReopenRun(job.run.run_id, note).status());
      return job.run.run_id;
    }
    case RunMode::kNew:
      break;
  }
  if (job.run.run_id > 0) return job.run.run_id;  // made by an earlier attempt
  experiments::NewRun run;
  run.experiment_id = job.run.experiment_id;
  run.name = job.run.run_name;
  run.tags = {{"dreamshot.kind", job.run.run_kind}, {"dreamshot.job", absl::StrCat(job.id)}};
  run.params = job.run.params;
  run.config_type = job.run.config_type;
  run.config_json = job.run.config_json;
  run.status = experiments::RunStatus::kRunning;
  if (job.parent_id > 0) {
    ASSIGN_OR_RETURN(JobRecord group, jobs.Get(job.parent_id));
    if (group.run.run_id > 0) run.parent_run_id = group.run.run_id;
  }
  ASSIGN_OR_RETURN(experiments::Run created, store.CreateRun(run));
  RETURN_IF_ERROR(jobs.SetRun(job.id, created.id));
  return created.id;
}

void EndJobRun(experiments::ExperimentStore& store, const JobRecord& job, int64_t run_id, JobState state,
               const absl::Status& outcome, bool note_cancel) {
  if (!OwnsRun(job) || run_id <= 0) return;
  experiments::RunStatus status = experiments::RunStatus::kFinished;
  std::string note;
  const std::string when = experiments::NoteTime(core::NowMillis());
  if (state == JobState::kCancelled) {
    status = experiments::RunStatus::kCancelled;
    if (note_cancel) note = absl::StrCat("cancelled at ", when, ": ", outcome.message());
  } else if (state == JobState::kInterrupted) {
    // The run status has no "interrupted": failed, with the event noted,
    // and reopened if the job resumes.
    status = experiments::RunStatus::kFailed;
    note = absl::StrCat("interrupted at ", when, " (", outcome.message(), ")");
  } else if (state != JobState::kFinished) {
    status = experiments::RunStatus::kFailed;
    note = absl::StrCat("error at ", when, ": ", outcome.ToString());
  }
  (void)store.EndRun(run_id, status, note);
}

std::string AttemptPrefix(const JobRecord& job, bool resumable) {
  if (resumable || job.attempts <= 1) return job.run.path_prefix;
  return absl::StrCat(job.run.path_prefix, "/attempt-", job.attempts);
}

}  // namespace dreamshot::jobs

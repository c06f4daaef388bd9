// What a kind of job does. The jobs layer knows nothing of generation or
// datasets: a domain registers a kind (its name, whether it can resume, its
// body) and the runner calls the body with the job's stored config.
#ifndef DREAMSHOT_JOBS_JOB_KIND_H_
#define DREAMSHOT_JOBS_JOB_KIND_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "core/cancel_flag.h"
#include "experiments/job_types.h"

namespace dreamshot::jobs {

// What a running job's body gets.
class JobContext {
 public:
  using Publisher = std::function<void(bool progress, const google::protobuf::Message& message)>;
  JobContext(const experiments::JobRecord& job, int64_t run_id, std::string path_prefix,
             const core::CancelFlag& cancel, Publisher publish)
      : job_(job), run_id_(run_id), path_prefix_(std::move(path_prefix)), cancel_(cancel),
        publish_(std::move(publish)) {}

  // The job as it started: config_json is what it was submitted with.
  const experiments::JobRecord& job() const { return job_; }
  // The config as the message it was stored from; DATA_LOSS naming the job
  // when it no longer parses.
  absl::Status ReadConfig(google::protobuf::Message* config) const;
  // The run it logs into (0 for a job without one).
  int64_t run_id() const { return run_id_; }
  // Where this attempt's artifacts go inside the run: the plan's prefix,
  // with "attempt-N/" below it for a retried job that cannot resume, so a
  // retry never collides with what an earlier attempt stored.
  const std::string& path_prefix() const { return path_prefix_; }
  // Whether this start continues an earlier one (a resumed or retried job).
  bool resuming() const { return job_.attempts > 1 || job_.run.mode == experiments::RunMode::kResume; }
  // Poll between steps; a cancelled body returns CANCELLED.
  bool cancelled() const { return cancel_.cancelled(); }
  const core::CancelFlag& cancel_flag() const { return cancel_; }

  // A result every watcher gets, in order.
  void Output(const google::protobuf::Message& message) const { publish_(false, message); }
  // How far the job has come; a watcher gets the latest.
  void Progress(const google::protobuf::Message& message) const { publish_(true, message); }

 private:
  const experiments::JobRecord& job_;
  int64_t run_id_;
  std::string path_prefix_;
  const core::CancelFlag& cancel_;
  Publisher publish_;
};

struct JobKind {
  std::string name;
  // Whether a job of this kind continues where it stopped when started
  // again (from the checkpoints in its run). Interrupted resumable jobs are
  // queued again automatically, up to RunnerOptions::max_auto_retries.
  bool resumable = false;
  // Whether a queued job of this kind should still run after a restart.
  // False for jobs that only answer the call that made them (a unary
  // look at one video): after a restart nobody waits for the answer, so
  // they end cancelled instead.
  bool survives_restart = true;
  std::function<absl::Status(JobContext&)> run;
  // Only for the kind of a group (JobRunner::SubmitGroup; it has no `run`):
  // how many of one group's children may run at once in one lane, read
  // from the group's stored config, so that the limit survives a restart.
  // Unset or 0: as many as the lane runs.
  std::function<int(const experiments::JobRecord& group)> max_running_children;
};

}  // namespace dreamshot::jobs

#endif  // DREAMSHOT_JOBS_JOB_KIND_H_

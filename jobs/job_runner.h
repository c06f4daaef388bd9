// Runs jobs from the persistent queue (experiments/job_store.h): per-device
// lanes of workers with a configurable concurrency, highest priority first,
// cancellation (a queued job leaves at once, a running one at its next
// step), retries, parent/child groups (a sweep is a parent whose children
// are jobs, with its own run whose child runs they make, and an optional
// limit on the children running at once in a lane) and progress fan-out to
// watchers (job_events.h) and listeners (a sweep's early-stop rule).
//
// After a restart Start() recovers: server jobs that were running are
// marked interrupted and their runs failed with the event noted; resumable
// kinds are queued again to continue from their last checkpoint, up to
// max_auto_retries times; queued jobs run again; clients' jobs and runs are
// never touched. On Shutdown() running jobs are cancelled at their next
// step and recorded interrupted (resumable ones stay queued for the next
// start), and queued jobs stay queued.
#ifndef DREAMSHOT_JOBS_JOB_RUNNER_H_
#define DREAMSHOT_JOBS_JOB_RUNNER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/cancel_flag.h"
#include "experiments/job_store.h"
#include "experiments/job_types.h"
#include "jobs/job_events.h"
#include "jobs/job_kind.h"

namespace dreamshot::experiments {
class ExperimentStore;
}

namespace dreamshot::jobs {

struct RunnerOptions {
  // Jobs running at once per device; `concurrency` overrides it for a device
  // ("cuda:0" = 2).
  int default_concurrency = 1;
  std::map<std::string, int> concurrency;
  // Jobs queued or running per device before Submit refuses with
  // RESOURCE_EXHAUSTED.
  int capacity = 16;
  // Automatic re-queues of an interrupted resumable job before it is left
  // interrupted for a person to retry.
  int max_auto_retries = 3;
  JobEventHub::Options events;
};

struct RecoveryReport {
  int64_t interrupted = 0;  // server jobs found running
  int64_t resumed = 0;      // of those, queued again to resume
  int64_t queued = 0;       // jobs waiting to run
  int64_t failed_runs = 0;  // server runs ended failed (interrupted jobs' and ones with no job)
};

struct Submitted {
  experiments::JobRecord job;
  int ahead = 0;  // jobs running or queued before it on its device
};

struct GroupSubmitted {
  experiments::JobRecord group;
  std::vector<Submitted> children;  // in the order given
};

class JobRunner {
 public:
  JobRunner(experiments::ExperimentStore* store, RunnerOptions options);
  ~JobRunner();  // Shutdown()
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Called on a job's own thread after each progress message it publishes
  // (the job waits while a listener runs): for observers that act on how a
  // job is doing, such as a sweep's early-stop rule.
  using ProgressListener = std::function<void(const experiments::JobRecord& job, int64_t run_id,
                                              const google::protobuf::Message& progress)>;

  // Before Start.
  void Register(JobKind kind);
  void AddProgressListener(ProgressListener listener);
  // Recovers what a previous server left and starts the lanes.
  absl::StatusOr<RecoveryReport> Start();

  // INVALID_ARGUMENT for an unknown kind; RESOURCE_EXHAUSTED for a full
  // device; UNAVAILABLE while stopping.
  absl::StatusOr<Submitted> Submit(const experiments::NewJob& job);
  // A parent whose state follows its children's (submit them with
  // parent_id set). With a run plan of RunMode::kNew the group's run is
  // made now; it ends with the group (finished, or failed naming how many
  // children did not finish), is reopened when a child is queued again,
  // and is the parent of the runs its children make.
  absl::StatusOr<experiments::JobRecord> CreateGroup(const experiments::NewJob& group);
  // A group and its children at once (their parent_id is set here). The
  // children of one group take one place of a lane's capacity, so a sweep
  // larger than --queue_capacity can still be queued; a lane that is full
  // refuses the whole group (RESOURCE_EXHAUSTED naming the lane) before
  // anything is stored, as do an unknown kind or a child without a device
  // (INVALID_ARGUMENT).
  absl::StatusOr<GroupSubmitted> SubmitGroup(const experiments::NewJob& group,
                                             std::vector<experiments::NewJob> children);

  // Queued: ends cancelled at once. Running: asked to stop at its next
  // step (the returned record still says running). A group: each of its
  // active children. FAILED_PRECONDITION naming the state of an ended job.
  // `reason` (e.g. the rule that stopped a sweep's child) becomes the job's
  // error and a note of its run; empty: "job N was cancelled".
  absl::StatusOr<experiments::JobRecord> Cancel(int64_t id, const std::string& reason = "");
  // Queues a failed, cancelled or interrupted job again (its run is
  // reopened and continues); for a group, each such child. Returns the
  // jobs queued. FAILED_PRECONDITION naming the state otherwise.
  absl::StatusOr<std::vector<experiments::JobRecord>> Retry(int64_t id);

  experiments::JobStore& store() { return jobs_; }
  JobEventHub& events() { return events_; }
  // Attaches a watcher (JobEventHub::Watch) to a job that exists.
  absl::StatusOr<int64_t> Watch(int64_t id, int64_t after_seq, JobEventHub::Sink sink);
  bool Unwatch(int64_t id, int64_t watch_id) { return events_.Unwatch(id, watch_id); }

  // Idempotent. When it returns no job body runs.
  void Shutdown();

 private:
  struct Lane {
    std::string device;
    int concurrency = 1;
    int running = 0;
    std::set<std::pair<int, int64_t>> queued;  // (-priority, id)
    // Jobs of groups, queued or running here: their group, and per group
    // how many are here and how many run.
    std::map<int64_t, int64_t> group_of;
    std::map<int64_t, int> group_jobs, group_running;
    std::vector<std::thread> workers;

    // What counts against the capacity: a group's jobs take one place.
    int Load() const;
    // The first queued job whose group is below its limit, or 0.
    int64_t Next(const std::map<int64_t, int>& group_limits) const;
    void Add(int64_t id, int priority, int64_t group);
    // Out of the queue (to run, or cancelled); false when it was not queued.
    bool Unqueue(int64_t id, int priority);
    void Finish(int64_t id);  // a job that ran, or left the queue without running
  };
  struct Active {
    core::CancelFlag flag;
    bool cancelled_by_user = false;
    std::string reason;
  };

  Lane& LaneFor(const std::string& device);  // with mu_ held
  void Enqueue(const experiments::JobRecord& job);
  // The group's limit on running children, cached for the lanes; 0: none.
  void LearnGroupLimit(int64_t group_id);
  int GroupLimitOf(const experiments::JobRecord& group) const;
  absl::StatusOr<experiments::JobRecord> CreateGroupLocked(const experiments::NewJob& group);
  void Work(Lane* lane);
  void RunOne(int64_t id);
  void PublishState(const experiments::JobRecord& job);
  void Settle(int64_t parent_id);
  // The group's run follows the group: reopened while it runs, ended with it.
  void SyncGroupRun(const experiments::JobRecord& group);
  absl::Status EndQueued(const experiments::JobRecord& job, experiments::JobState state, const absl::Status& why);

  experiments::ExperimentStore* store_;
  experiments::JobStore jobs_;
  const RunnerOptions options_;
  JobEventHub events_;
  std::map<std::string, JobKind> kinds_;
  std::vector<ProgressListener> listeners_;

  std::mutex mu_;
  std::condition_variable work_;
  bool started_ = false, stopping_ = false;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  std::map<int64_t, std::shared_ptr<Active>> active_;
  std::map<int64_t, int> group_limits_;  // groups with a limit
  std::mutex shutdown_mu_;
};

}  // namespace dreamshot::jobs

#endif  // DREAMSHOT_JOBS_JOB_RUNNER_H_

// The run store: experiments, runs, params, tags, metric time series and run
// search. It keeps the name ExperimentStore because it opens the store's
// SQLite file and owns its Database; the other concepts of that file have
// stores of their own over the same Database (database()):
//   ArtifactStore (artifact_store.h)  artifact records and blob-write notes
//   PairStore     (pair_store.h)      A/B image pairs
//   DatasetStore  (dataset_store.h)   dataset pools
//   SurveyStore   (survey_store.h)    surveys, participants and answers
//   JobStore      (job_store.h)       the persistent job queue
// Each is cheap (a Database pointer) and thread-safe; every multi-row write
// is one transaction; every query is a prepared statement.
#ifndef DREAMSHOT_EXPERIMENTS_STORE_H_
#define DREAMSHOT_EXPERIMENTS_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/change_signal.h"
#include "experiments/database.h"
#include "experiments/store_limits.h"
#include "experiments/types.h"

namespace dreamshot::experiments {

inline constexpr size_t kMaxMetricPointsPerBatch = 100000;
inline constexpr int kMaxPageSize = 1000;

struct LogMetricsResult {
  int64_t accepted = 0;
  bool duplicate_request = false;
};

class ExperimentStore {
 public:
  static absl::StatusOr<std::unique_ptr<ExperimentStore>> Open(const std::string& path);

  const std::string& path() const { return db_->path(); }
  // The one database every concept's store shares (see the top of this file).
  Database* database() const { return db_.get(); }
  // Bumped by the writes a watcher may wait for: runs and metrics here, and
  // SurveyStore's survey changes (a survey's status moves its run).
  ChangeSignal* changes() { return &changes_; }

  // Experiments. Names are unique (ALREADY_EXISTS).
  absl::StatusOr<Experiment> CreateExperiment(const std::string& name,
                                              const std::string& description, const Tags& tags);
  absl::StatusOr<Experiment> GetExperiment(int64_t id);
  absl::StatusOr<Experiment> GetExperimentByName(const std::string& name);
  absl::StatusOr<std::vector<Experiment>> ListExperiments();
  // The experiment named `name`, created (no description, no tags) when
  // missing; safe when several callers race to create it.
  absl::StatusOr<Experiment> GetOrCreateExperiment(const std::string& name);

  // Runs.
  absl::StatusOr<Run> CreateRun(const NewRun& run);
  absl::StatusOr<Run> GetRun(int64_t id);
  // Status moves forward only: queued -> running -> finished/failed/cancelled.
  // ReopenRun is the one way back.
  absl::StatusOr<Run> UpdateRun(int64_t id, const RunUpdate& update);
  // The one exception to the forward-only rule: a resumed job (a dataset
  // build that picks up after a crash, a cancel or a failed source)
  // continues its own run, so its params, metrics, artifacts and pool stay
  // in one place instead of being split over a new run. Moves the run from
  // any status (failed, cancelled, finished, running left behind by a dead
  // server, or queued) to running, clears end_ms, keeps start_ms (sets it
  // if the run never started) and appends `note` to the notes as a new line
  // (no leading newline when the notes were empty; nothing when `note` is
  // empty). NOT_FOUND if the run does not exist.
  absl::StatusOr<Run> ReopenRun(int64_t id, const std::string& note);
  // Ends a job's run in one transaction: `status` (finished, failed or
  // cancelled) and `note`, unless empty, appended to the notes as a new
  // line. FAILED_PRECONDITION if the run already ended.
  absl::StatusOr<Run> EndRun(int64_t id, RunStatus status, const std::string& note);
  absl::StatusOr<Run> SetTags(int64_t id, const Tags& set, const std::vector<std::string>& remove);
  // Params are write-once: logging a key again with another value is an error.
  absl::Status LogParams(int64_t id, const Params& params);
  // Marks every queued/running run the server made (tagged dreamshot.kind;
  // not a survey's, which lives while the survey is open) failed, appending
  // "found interrupted at <now> (<reason>)" to its notes: an event, so that
  // a run resumed later and finished does not read as failed; for a server
  // that owns the store and finds runs a dead predecessor left behind.
  // Clients' runs are theirs: a restart of the server leaves them running.
  absl::StatusOr<int64_t> FailInterruptedRuns(const std::string& reason);

  // Metrics. A batch is all-or-nothing; `request_id` (optional) makes a
  // retried batch a no-op.
  absl::StatusOr<LogMetricsResult> LogMetrics(int64_t run_id, std::vector<MetricPoint> points,
                                              const std::string& request_id = "");
  absl::StatusOr<std::vector<MetricPoint>> GetMetricHistory(int64_t run_id, const std::string& key);
  // Points logged after sequence number `after_seq`, in logging order.
  absl::StatusOr<std::vector<StoredMetricPoint>> MetricsSince(int64_t run_id, int64_t after_seq,
                                                              const std::vector<std::string>& keys,
                                                              int limit);
  // Highest sequence number logged so far for the run (0 if none).
  absl::StatusOr<int64_t> LastMetricSeq(int64_t run_id);
  // Blocks until this process logs metrics or changes a run, or `timeout`
  // passes. Writers in other processes are seen by polling after the timeout.
  void WaitForChange(uint64_t seen_version, std::chrono::milliseconds timeout) { changes_.Wait(seen_version, timeout); }
  uint64_t ChangeVersion() { return changes_.Version(); }

  // Search (filter syntax in experiments/filter.h), paginated.
  absl::StatusOr<RunPage> SearchRuns(const RunQuery& query);
  // Every run matching (up to `limit`, else RESOURCE_EXHAUSTED).
  absl::StatusOr<std::vector<Run>> SearchAllRuns(const RunQuery& query, int limit);
  // The runs with these ids, in this order (NOT_FOUND names a missing id).
  absl::StatusOr<std::vector<Run>> GetRuns(const std::vector<int64_t>& ids);

 private:
  explicit ExperimentStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  std::unique_ptr<Database> db_;
  ChangeSignal changes_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_STORE_H_

// The experiment store: experiments, runs, params, tags, metric time series
// and artifact records in one SQLite file. Thread-safe; every multi-row write
// is one transaction; every query is a prepared statement.
#ifndef DREAMSHOT_EXPERIMENTS_STORE_H_
#define DREAMSHOT_EXPERIMENTS_STORE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/database.h"
#include "experiments/types.h"

namespace dreamshot::experiments {

inline constexpr size_t kMaxMetricPointsPerBatch = 100000;
inline constexpr size_t kMaxKeyLength = 250;
inline constexpr size_t kMaxValueLength = 6000;
inline constexpr int kMaxPageSize = 1000;

struct LogMetricsResult {
  int64_t accepted = 0;
  bool duplicate_request = false;
};

// A participant of a survey as its page sees it, read in one snapshot.
struct SurveyParticipantSnapshot {
  struct Assigned {
    SurveyAssignment assignment;
    SurveyItem item;
    int answered = 0;  // questions of the item answered so far
  };
  SurveyParticipant participant;
  Survey survey;
  std::vector<Assigned> assigned;  // by position
};

class ExperimentStore {
 public:
  static absl::StatusOr<std::unique_ptr<ExperimentStore>> Open(const std::string& path);

  const std::string& path() const { return db_->path(); }
  // The one database every concept's store shares (JobStore, ...).
  Database* database() const { return db_.get(); }

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
  void WaitForChange(uint64_t seen_version, std::chrono::milliseconds timeout);
  uint64_t ChangeVersion();

  // Artifact records (the bytes are kept by ArtifactBlobs).
  absl::StatusOr<Artifact> AddArtifact(const Artifact& artifact);
  // Blob writes not yet recorded (store_blobs.cc): ArtifactBlobs notes each
  // file before writing it (its WriteLedger); inserting an artifact row with
  // that hash drops the note. Notes left name files whose rows never came.
  absl::Status NoteBlobWrite(const std::string& sha256);
  // Whether an artifact row refers to the hash.
  absl::StatusOr<bool> IsBlobRecorded(const std::string& sha256);
  // Noted hashes no artifact row refers to.
  absl::StatusOr<std::vector<std::string>> UnrecordedBlobWrites();
  absl::Status ForgetBlobWrites(const std::vector<std::string>& sha256s);
  absl::StatusOr<std::vector<Artifact>> ListArtifacts(int64_t run_id);
  // NOT_FOUND naming the id.
  absl::StatusOr<Artifact> GetArtifact(int64_t id);

  // A/B pairs. Both artifacts must belong to the pair's run; labels must
  // differ.
  absl::StatusOr<ImagePair> AddImagePair(const ImagePair& pair);
  // In the order they were added.
  absl::StatusOr<std::vector<ImagePair>> ListImagePairs(int64_t run_id);
  // NOT_FOUND naming the id.
  absl::StatusOr<ImagePair> GetImagePair(int64_t id);

  // Dataset pools (the items of a dataset-building run). A source's items,
  // their images and its "done" record land in one transaction, so a build
  // that stops mid-way resumes at the first source not recorded, without
  // duplicates. Committing a source again replaces its items and the
  // artifacts they referenced as images. `images` become artifacts of the
  // run (artifact.run_id 0 or run_id) and set their item's image_artifact.
  // INVALID_ARGUMENT for a bad image (index out of range, two for one item,
  // bad path/kind, another run); ALREADY_EXISTS names an image path the run
  // already has; FAILED_PRECONDITION when the old items are in a split or
  // their images in an image pair. Any error commits nothing.
  absl::Status CommitDatasetSource(int64_t run_id, const DatasetSource& source,
                                   const std::vector<DatasetItem>& items,
                                   const std::vector<DatasetItemImage>& images = {});
  absl::StatusOr<std::vector<DatasetSource>> ListDatasetSources(int64_t run_id);
  // In (source, shot_index) order; `kept_only` leaves out dropped items.
  absl::StatusOr<std::vector<DatasetItem>> ListDatasetItems(int64_t run_id, bool kept_only = false);
  // All or nothing: NOT_FOUND names an item that is not in the run.
  absl::Status SetDatasetLabels(int64_t run_id, const std::vector<DatasetLabelUpdate>& labels);
  absl::Status SetDatasetCaptions(int64_t run_id, const std::vector<DatasetCaptionUpdate>& captions);
  // Kept/dropped state from the dedup pass, all or nothing; each
  // drop_reasons_json must be a JSON array (INVALID_ARGUMENT).
  absl::Status SetDatasetDrops(int64_t run_id, const std::vector<DatasetDropUpdate>& drops);
  absl::Status SetDatasetItemImage(int64_t item_id, int64_t artifact_id);
  // Named, ordered sets of items, created together or not at all
  // (ALREADY_EXISTS if a name is taken).
  absl::Status CreateDatasetSplits(int64_t run_id, const std::map<std::string, std::vector<int64_t>>& splits);
  absl::StatusOr<std::vector<int64_t>> GetDatasetSplit(int64_t run_id, const std::string& name);
  // Split name → item count.
  absl::StatusOr<std::map<std::string, int64_t>> ListDatasetSplits(int64_t run_id);

  // Surveys (store_survey.cc). A survey and its items are created together.
  // ALREADY_EXISTS for a taken name; NOT_FOUND for a missing run or artifact.
  absl::StatusOr<Survey> CreateSurvey(const Survey& survey, const std::vector<SurveyItem>& items);
  absl::StatusOr<Survey> GetSurvey(int64_t id);
  absl::StatusOr<Survey> GetSurveyByName(const std::string& name);
  absl::StatusOr<std::vector<Survey>> ListSurveys();
  // draft → open ⇄ closed; FAILED_PRECONDITION otherwise.
  absl::StatusOr<Survey> SetSurveyStatus(int64_t id, const std::string& status);
  absl::StatusOr<std::vector<SurveyItem>> ListSurveyItems(int64_t survey_id);
  // Adds a participant (next arrival number) and its assignment in one
  // write transaction: `assign` gets the arrival number and how often each
  // item was assigned so far, so concurrent arrivals keep coverage even.
  // FAILED_PRECONDITION unless the survey is open; ALREADY_EXISTS for a
  // token hash in use.
  using AssignFn = std::function<absl::StatusOr<std::vector<SurveyAssignment>>(
      int64_t seq, const std::map<int64_t, int64_t>& assigned_counts)>;
  absl::StatusOr<SurveyParticipant> AddSurveyParticipant(int64_t survey_id, const std::string& token_hash,
                                                         const AssignFn& assign);
  // NOT_FOUND for an unknown hash.
  absl::StatusOr<SurveyParticipant> FindSurveyParticipant(const std::string& token_hash);
  absl::StatusOr<std::vector<SurveyParticipant>> ListSurveyParticipants(int64_t survey_id);
  absl::StatusOr<std::vector<SurveyAssignment>> ListSurveyAssignments(int64_t participant_id);
  absl::Status MarkSurveyConsent(int64_t participant_id);
  // Stores one item's answers together. A replay (same idempotency key,
  // same answers) stores nothing and returns true; answers already given
  // differently are ALREADY_EXISTS; an item not assigned to the participant
  // is NOT_FOUND; FAILED_PRECONDITION unless the survey is open. The
  // participant is marked finished with its last item.
  absl::StatusOr<bool> RecordSurveyAnswers(int64_t participant_id, const std::vector<SurveyAnswer>& answers);
  // Every answer of the survey, by participant, then item, then question.
  absl::StatusOr<std::vector<SurveyAnswer>> ListSurveyAnswers(int64_t survey_id);
  // Item id → participants it was assigned to (never-assigned items absent).
  absl::StatusOr<std::map<int64_t, int64_t>> SurveyShownCounts(int64_t survey_id);
  // Everything a participant's page needs, for the participant with this
  // token hash: one read transaction, two queries, and only the items
  // assigned to it (never the survey's whole pool). Every request of the
  // participant API reads this. NOT_FOUND for an unknown hash.
  absl::StatusOr<SurveyParticipantSnapshot> GetSurveyParticipantSnapshot(const std::string& token_hash);

  // Search (filter syntax in experiments/filter.h), paginated.
  absl::StatusOr<RunPage> SearchRuns(const RunQuery& query);
  // Every run matching (up to `limit`, else RESOURCE_EXHAUSTED).
  absl::StatusOr<std::vector<Run>> SearchAllRuns(const RunQuery& query, int limit);
  // The runs with these ids, in this order (NOT_FOUND names a missing id).
  absl::StatusOr<std::vector<Run>> GetRuns(const std::vector<int64_t>& ids);

 private:
  explicit ExperimentStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  void NotifyChange();

  std::unique_ptr<Database> db_;
  std::mutex change_mu_;
  std::condition_variable change_cv_;
  uint64_t change_version_ = 0;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_STORE_H_

// Domain types of the experiment store. The RPC layer converts these to and
// from protos; nothing here knows about gRPC.
#ifndef DREAMSHOT_EXPERIMENTS_TYPES_H_
#define DREAMSHOT_EXPERIMENTS_TYPES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::experiments {

enum class RunStatus { kQueued, kRunning, kFinished, kFailed, kCancelled };

// "queued", "running", ... as stored in the database.
const char* RunStatusName(RunStatus status);
absl::StatusOr<RunStatus> ParseRunStatus(absl::string_view name);
bool IsTerminal(RunStatus status);

// A moment in a run's notes, "2024-05-01 12:00:00 UTC". The notes are the
// run's history: each line says what happened when (its state is `status`).
std::string NoteTime(int64_t unix_ms);

using Tags = std::map<std::string, std::string>;
using Params = std::map<std::string, std::string>;

struct Experiment {
  int64_t id = 0;
  std::string name;
  std::string description;
  Tags tags;
  int64_t created_ms = 0;
  int64_t run_count = 0;
};

// Latest point of a metric with running min/max/count.
struct MetricSummary {
  std::string key;
  int64_t step = 0;
  double value = 0;
  int64_t wall_ms = 0;
  double min = 0;
  double max = 0;
  int64_t count = 0;
};

struct Run {
  int64_t id = 0;
  int64_t experiment_id = 0;
  std::string name;
  RunStatus status = RunStatus::kRunning;
  std::optional<int64_t> start_ms;
  std::optional<int64_t> end_ms;
  std::optional<int64_t> parent_run_id;
  Tags tags;
  std::string notes;
  Params params;
  std::string config_type;
  std::string config_json;
  std::vector<MetricSummary> metrics;  // sorted by key
  int64_t created_ms = 0;
};

struct NewRun {
  int64_t experiment_id = 0;
  std::string name;
  std::optional<int64_t> parent_run_id;
  Tags tags;
  Params params;
  std::string config_type;
  std::string config_json;
  RunStatus status = RunStatus::kRunning;
  std::string notes;
};

struct RunUpdate {
  std::optional<RunStatus> status;
  std::optional<std::string> name;
  std::optional<std::string> notes;
};

struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double value = 0;
  int64_t wall_ms = 0;  // 0: stamped with the time of logging
};

// A metric point as stored, with its insertion sequence number (for watches).
struct StoredMetricPoint {
  int64_t seq = 0;
  MetricPoint point;
};

struct Artifact {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string kind;
  std::string path;
  std::string sha256;
  int64_t size_bytes = 0;
  int64_t created_ms = 0;
  std::string uri;
};

// Two images of one prompt and seed from two systems (label_a, label_b),
// both artifacts of run_id.
struct ImagePair {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string prompt;
  std::string shot_type;  // "close", "medium", "long" or ""
  uint64_t seed = 0;
  std::string label_a, label_b;
  int64_t artifact_a = 0, artifact_b = 0;
  int64_t created_ms = 0;
};

// A shot (or still image) of a dataset-building run's pool, with where it
// came from, whether it was kept, and its labels. Scales are stored as the
// dataset builder's names ("close", "CS", …); JSON fields are opaque here.
struct DatasetItem {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string source;      // video or image path
  int64_t shot_index = 0;  // shot number within the source (0 for a still)
  int64_t start_frame = 0, end_frame = 0;
  double start_s = 0, end_s = 0;
  int64_t keyframe = 0;           // source frame number of the keyframe
  std::string detector_json;      // {"name": ..., params}
  bool kept = true;
  std::string drop_reasons_json = "[]";  // [{"filter": ..., "detail": ...}]
  std::optional<uint64_t> phash;
  int crop_x = 0, crop_y = 0, crop_width = 0, crop_height = 0;  // in source pixels
  std::optional<int64_t> image_artifact;  // the training-resolution PNG
  std::string scale = "unknown", fine_scale = "unknown";
  double scale_confidence = 0;
  std::string scale_method, scale_evidence;
  std::string caption, caption_source;
  int64_t created_ms = 0;
};

// What happened to one source file of a dataset build: "done" with its shot
// count, or "failed" with the reason. A resumed build skips both.
struct DatasetSource {
  std::string source;
  std::string status;  // "done" | "failed"
  std::string detail;
  int64_t shots = 0, frames = 0;
  int64_t updated_ms = 0;
};

struct DatasetLabelUpdate {
  int64_t item_id = 0;
  std::string scale, fine_scale;
  double confidence = 0;
  std::string method, evidence;
};

struct DatasetCaptionUpdate {
  int64_t item_id = 0;
  std::string caption, caption_source;
};

// The training image of items[item] of a CommitDatasetSource call, recorded
// as an artifact of the run in the same transaction as the items.
struct DatasetItemImage {
  size_t item = 0;
  Artifact artifact;  // run_id, kind, path, sha256, size_bytes, uri; id ignored
};

// The dedup pass's verdict on one item: kept, or dropped with its reasons
// (a JSON array, [{"filter": ..., "detail": ...}]).
struct DatasetDropUpdate {
  int64_t item_id = 0;
  bool kept = true;
  std::string drop_reasons_json = "[]";
};

// A pairwise A/B survey. Its config (questions, options, pairs per
// participant, seed, consent text) is JSON the store does not interpret.
struct Survey {
  int64_t id = 0;
  int64_t run_id = 0;  // the survey's run (kind "survey")
  std::string name;
  std::string status = "draft";  // draft | open | closed
  std::string config_json = "{}";
  int64_t created_ms = 0;
  std::optional<int64_t> opened_ms, closed_ms;
};

// One thing a participant judges: a snapshot of an image pair (system x is
// the pair's side a), or an attention check, whose `attention` holds the
// expected choice ("neither" for two identical images).
struct SurveyItem {
  int64_t id = 0;
  int64_t survey_id = 0;
  std::optional<int64_t> pair_id;
  std::string attention;  // "" for a real pair
  std::string prompt, shot_type;
  std::string label_x, label_y;
  int64_t artifact_x = 0, artifact_y = 0;
};

struct SurveyParticipant {
  int64_t id = 0;
  int64_t survey_id = 0;
  int64_t seq = 0;         // arrival order from 0 (the assignment's participant index)
  std::string token_hash;  // SHA-256 hex of the participant's token
  int64_t created_ms = 0;
  std::optional<int64_t> consented_ms, finished_ms;
};

struct SurveyAssignment {
  int64_t position = 0;  // 0-based order shown
  int64_t item_id = 0;
  bool swapped = false;  // true: system y is shown as A
};

struct SurveyAnswer {
  int64_t id = 0;
  int64_t participant_id = 0;
  int64_t item_id = 0;
  int question = 0;
  std::string shown;   // "A" | "B" | "neither": what was clicked
  std::string choice;  // "x" | "y" | "neither": the system it means
  std::string idempotency_key;
  int64_t elapsed_ms = 0;
  int64_t created_ms = 0;
};

struct RunQuery {
  std::vector<int64_t> experiment_ids;  // empty: all
  std::string filter;
  std::string order_by;
  int page_size = 100;
  std::string page_token;
};

struct RunPage {
  std::vector<Run> runs;
  std::string next_page_token;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_TYPES_H_

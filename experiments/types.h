// Domain types of the run store (experiments/store.h): experiments, runs,
// metrics and artifacts. Each other concept of the store has its own types
// header (pair_types.h, dataset_types.h, survey_types.h, job_types.h). The
// RPC layer converts these to and from protos; nothing here knows about gRPC.
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

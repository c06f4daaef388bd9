// Human-readable rendering of runs, comparisons, aggregates and artifacts
// (the text behind `runs list/show/compare/aggregate` and `artifacts list`).
// Pure functions of the response messages, so they are testable offline.
#ifndef DREAMSHOT_CLI_RUN_FORMAT_H_
#define DREAMSHOT_CLI_RUN_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "dreamshot/v1/experiment.pb.h"

namespace dreamshot::cli {

// Param and metric columns shown by `runs list`, at most this many each.
inline constexpr size_t kMaxListColumns = 6;

// Keys a filter or order-by expression names in the given namespace
// ("params" also matches "param.", "metrics" also "metric."), in order of
// first mention: "params.lora_rank = 8 and metrics.clip_t > 0.3" ->
// {"lora_rank"} for "params".
std::vector<std::string> KeysMentioned(absl::string_view expression, absl::string_view ns);

// The `runs list` table: id, name, status, start, duration, then up to
// kMaxListColumns params and latest metric values. Keys named in
// `preferred_params` / `preferred_metrics` come first; then params whose
// value varies between the runs, then the rest; metrics by how many runs
// have them. `now_ms` gives the duration of runs still going.
std::string RunsTable(const std::vector<v1::Run>& runs, const std::vector<std::string>& preferred_params,
                      const std::vector<std::string>& preferred_metrics, int64_t now_ms);

// `runs show`: every field, tags, params, metric summaries and artifacts.
std::string RunDetails(const v1::Run& run, const std::string& experiment_name,
                       const v1::ListArtifactsResponse& artifacts, int64_t now_ms);

// `runs compare`: params side by side ("*" marks rows that differ), then each
// metric as "last (min..max)".
std::string CompareTables(const v1::CompareRunsResponse& response);

// `runs aggregate`: one row per group with the params that vary between
// groups, n, and "mean ± half-width [lo, hi]" per metric.
std::string AggregateTable(const v1::AggregateRunsResponse& response);

std::string ArtifactsTable(const v1::ListArtifactsResponse& response);

// The run's duration: end - start, now - start while running, "-" otherwise.
std::string RunDuration(const v1::Run& run, int64_t now_ms);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_RUN_FORMAT_H_

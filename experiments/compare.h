// Side-by-side comparison of runs and aggregation of runs that differ only in
// their seed (mean and Student-t confidence interval per metric).
#ifndef DREAMSHOT_EXPERIMENTS_COMPARE_H_
#define DREAMSHOT_EXPERIMENTS_COMPARE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/types.h"

namespace dreamshot::experiments {

struct ParamComparison {
  std::string key;
  std::vector<std::optional<std::string>> values;  // one per run
  bool differs = false;
};

struct MetricComparison {
  std::string key;
  std::vector<std::optional<MetricSummary>> cells;  // one per run
};

struct RunComparison {
  std::vector<ParamComparison> params;    // sorted by key
  std::vector<MetricComparison> metrics;  // sorted by key
};

RunComparison CompareRuns(const std::vector<Run>& runs);

struct MetricAggregate {
  std::string key;
  int64_t n = 0;
  double mean = 0, stddev = 0, ci_low = 0, ci_high = 0, min = 0, max = 0;
};

struct RunGroupAggregate {
  Params shared_params;  // the params defining the group
  std::vector<int64_t> run_ids;
  std::vector<MetricAggregate> metrics;  // sorted by key
};

struct AggregateOptions {
  // Params that do not define a group; empty: "seed" and keys ending in ".seed".
  std::vector<std::string> ignore_params;
  std::vector<std::string> metrics;  // empty: every metric
  double confidence = 0.95;
};

// Groups runs whose params are equal except the ignored ones and summarises
// each metric's latest value over the group (NaN values are left out).
absl::StatusOr<std::vector<RunGroupAggregate>> AggregateRuns(const std::vector<Run>& runs,
                                                             const AggregateOptions& options);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_COMPARE_H_

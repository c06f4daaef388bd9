// A sweep's children from its spec (dreamshot.v1.SweepSpec): the grid's
// cartesian product, or seeded random trials, times each seed, each a copy
// of the base TrainConfig with the swept fields set by name through
// protobuf reflection. Pure: no files are looked at (each child is
// resolved with ResolveTrainConfig afterwards, before anything is stored).
#ifndef DREAMSHOT_SERVICES_TRAIN_SWEEP_H_
#define DREAMSHOT_SERVICES_TRAIN_SWEEP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dreamshot/v1/trainer.pb.h"

namespace dreamshot::services {

// Beyond it a sweep is refused with RESOURCE_EXHAUSTED.
inline constexpr int kMaxSweepChildren = 256;

struct MetricPoint {
  int64_t step = 0;
  double value = 0;
};

// (field, value as text) per dimension, in the spec's order, then "seed"
// when spec.seeds is set.
using SweepValues = std::vector<std::pair<std::string, std::string>>;

struct SweepChildConfig {
  std::string name;  // "rank=8 lr=5e-05 seed=2": the values, learning_rate shown as lr
  SweepValues values;
  v1::TrainConfig config;  // the base with the values set; not resolved
};

// INVALID_ARGUMENT naming the dimension and field for an unknown field, a
// message or map field, a value that does not parse as the field's type, a
// field swept twice, values missing (GRID) or not exactly one of values and
// log_uniform (RANDOM), a log-uniform range on a field that is not a float
// or outside 0 < min < max, RANDOM without trials, "seed" as a dimension
// together with spec.seeds or in RANDOM mode, a negative max_concurrent,
// or a bad early-stop rule (ValidateEarlyStop); RESOURCE_EXHAUSTED beyond
// kMaxSweepChildren (before any child is made).
absl::StatusOr<std::vector<SweepChildConfig>> ExpandSweep(const v1::TrainConfig& base, const v1::SweepSpec& spec);

// The spec's dimensions' values in `config`, formatted as ExpandSweep
// names them.
SweepValues ValuesOf(const v1::SweepSpec& spec, const v1::TrainConfig& config);
// "rank=8 lr=5e-05 seed=2".
std::string SweepChildName(const SweepValues& values);

// The rule with its defaults filled in (metric "loss", window 1, factor 1,
// min_siblings 1); an unset rule (step 0) stays unset. INVALID_ARGUMENT
// naming the field otherwise: a metric the train job does not log, window
// above step, a factor that is not positive and finite.
absl::StatusOr<v1::EarlyStop> ValidateEarlyStop(const v1::EarlyStop& rule);

// The rule on one child (its points of rule.metric, as logged) against its
// siblings' (each sibling's points of the same metric): the reason to stop
// it, or nothing. The mean over steps (S - window, S] counts only for a
// series with a point at S; `rule` has its defaults filled in.
std::optional<std::string> EarlyStopVerdict(const v1::EarlyStop& rule, const std::vector<MetricPoint>& child,
                                            const std::vector<std::vector<MetricPoint>>& siblings);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_SWEEP_H_

#include "experiments/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/statistics.h"
#include "experiments/numeric_text.h"

namespace dreamshot::experiments {
namespace {

bool IsIgnored(const std::string& key, const AggregateOptions& options) {
  if (options.ignore_params.empty()) return key == "seed" || absl::EndsWith(key, ".seed");
  return std::find(options.ignore_params.begin(), options.ignore_params.end(), key) !=
         options.ignore_params.end();
}

// Orders param values as a person reads a sweep: numbers by value (4 < 16),
// then text.
bool ValueLess(const std::string& a, const std::string& b) {
  const std::optional<double> x = ParseNumericText(a), y = ParseNumericText(b);
  if (x && y) return *x < *y || (*x == *y && a < b);
  if (x || y) return x.has_value();
  return a < b;
}

bool ParamsLess(const Params& a, const Params& b) {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(), [](const auto& l, const auto& r) {
        if (l.first != r.first) return l.first < r.first;
        return ValueLess(l.second, r.second);
      });
}

}  // namespace

RunComparison CompareRuns(const std::vector<Run>& runs) {
  std::set<std::string> param_keys, metric_keys;
  for (const Run& run : runs) {
    for (const auto& [key, value] : run.params) param_keys.insert(key);
    for (const MetricSummary& m : run.metrics) metric_keys.insert(m.key);
  }
  RunComparison out;
  for (const std::string& key : param_keys) {
    ParamComparison row{key, {}, false};
    for (const Run& run : runs) {
      auto it = run.params.find(key);
      row.values.push_back(it == run.params.end() ? std::nullopt
                                                  : std::optional<std::string>(it->second));
    }
    row.differs = std::any_of(row.values.begin(), row.values.end(),
                              [&](const auto& v) { return v != row.values.front(); });
    out.params.push_back(std::move(row));
  }
  for (const std::string& key : metric_keys) {
    MetricComparison row{key, {}};
    for (const Run& run : runs) {
      auto it = std::find_if(run.metrics.begin(), run.metrics.end(),
                             [&](const MetricSummary& m) { return m.key == key; });
      row.cells.push_back(it == run.metrics.end() ? std::nullopt
                                                  : std::optional<MetricSummary>(*it));
    }
    out.metrics.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<std::vector<RunGroupAggregate>> AggregateRuns(const std::vector<Run>& runs,
                                                             const AggregateOptions& options) {
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence must be in (0, 1), got ", options.confidence));
  }
  // Group key: the non-ignored params (ordered map, so equal sets compare equal).
  std::map<Params, std::vector<const Run*>, bool (*)(const Params&, const Params&)> groups(ParamsLess);
  for (const Run& run : runs) {
    Params shared;
    for (const auto& [key, value] : run.params) {
      if (!IsIgnored(key, options)) shared[key] = value;
    }
    groups[shared].push_back(&run);
  }
  std::vector<RunGroupAggregate> out;
  for (const auto& [shared, members] : groups) {
    RunGroupAggregate group;
    group.shared_params = shared;
    std::map<std::string, std::vector<double>> values;
    for (const Run* run : members) {
      group.run_ids.push_back(run->id);
      for (const MetricSummary& m : run->metrics) {
        const bool wanted = options.metrics.empty() ||
                            std::find(options.metrics.begin(), options.metrics.end(), m.key) !=
                                options.metrics.end();
        if (wanted && std::isfinite(m.value)) values[m.key].push_back(m.value);
      }
    }
    for (const auto& [key, series] : values) {
      absl::StatusOr<core::Summary> s = core::Summarize(series, options.confidence);
      if (!s.ok()) return s.status();
      group.metrics.push_back({key, s->n, s->mean, s->stddev, s->ci_low, s->ci_high, s->min, s->max});
    }
    out.push_back(std::move(group));
  }
  return out;
}

}  // namespace dreamshot::experiments

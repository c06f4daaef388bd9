// Metric time series: batched ingestion, history, and the incremental reads
// behind live watches.
#include <SQLiteCpp/SQLiteCpp.h>

#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/run_loader.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

// Per-key aggregate of one batch, merged into latest_metrics with one upsert.
struct BatchSummary {
  const MetricPoint* latest = nullptr;
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
  int64_t count = 0;
};

void BindValue(SQLite::Statement& s, int index, double value) {
  if (std::isnan(value)) {
    s.bind(index);  // NULL stands for NaN
  } else {
    s.bind(index, value);
  }
}

absl::Status ValidateBatch(const std::vector<MetricPoint>& points) {
  if (points.size() > kMaxMetricPointsPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat("a batch of ", points.size(),
                                                   " metric points exceeds the limit of ",
                                                   kMaxMetricPointsPerBatch, "; split it"));
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string& key = points[i].key;
    if (key.empty() || key.size() > kMaxKeyLength) {
      return absl::InvalidArgumentError(absl::StrCat("metric point ", i, " has ",
                                                     key.empty() ? "an empty key" : "a key over 250 characters"));
    }
    if (points[i].step < 0) {
      return absl::InvalidArgumentError(absl::StrCat("metric '", key, "' point ", i,
                                                     " has negative step ", points[i].step));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LogMetricsResult> ExperimentStore::LogMetrics(int64_t run_id,
                                                             std::vector<MetricPoint> points,
                                                             const std::string& request_id) {
  RETURN_IF_ERROR(ValidateBatch(points));
  if (request_id.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError("request_id is longer than 250 characters");
  }
  const int64_t now = core::NowMillis();
  for (MetricPoint& p : points) {
    if (p.wall_ms == 0) p.wall_ms = now;
  }
  std::map<std::string, BatchSummary> summaries;
  for (const MetricPoint& p : points) {
    BatchSummary& s = summaries[p.key];
    // Later points win ties on step, as they would in the table.
    if (!s.latest || p.step >= s.latest->step) s.latest = &p;
    if (!std::isnan(p.value)) {
      s.min = std::isnan(s.min) ? p.value : std::min(s.min, p.value);
      s.max = std::isnan(s.max) ? p.value : std::max(s.max, p.value);
    }
    ++s.count;
  }

  LogMetricsResult result;
  RETURN_IF_ERROR(db_->Write("log metrics", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    if (!request_id.empty()) {
      SQLite::Statement seen(db, "SELECT run_id FROM applied_requests WHERE request_id = ?");
      seen.bind(1, request_id);
      if (seen.executeStep()) {
        if (seen.getColumn(0).getInt64() != run_id) {
          return absl::InvalidArgumentError(absl::StrCat("request_id '", request_id,
                                                         "' was already used for run ",
                                                         seen.getColumn(0).getInt64()));
        }
        result.duplicate_request = true;
        return absl::OkStatus();
      }
      SQLite::Statement mark(db, "INSERT INTO applied_requests (request_id, run_id, created_ms) VALUES (?, ?, ?)");
      mark.bind(1, request_id);
      mark.bind(2, run_id);
      mark.bind(3, now);
      mark.exec();
    }
    SQLite::Statement insert(db, "INSERT INTO metrics (run_id, key, step, value, wall_ms) VALUES (?, ?, ?, ?, ?)");
    for (const MetricPoint& p : points) {
      insert.bind(1, run_id);
      insert.bind(2, p.key);
      insert.bind(3, p.step);
      BindValue(insert, 4, p.value);
      insert.bind(5, p.wall_ms);
      insert.exec();
      insert.reset();
    }
    // All SET expressions read the row as it was before the update.
    SQLite::Statement upsert(db, R"sql(
      INSERT INTO latest_metrics (run_id, key, step, value, wall_ms, min_value, max_value, count)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (run_id, key) DO UPDATE SET
        value = CASE WHEN excluded.step >= step THEN excluded.value ELSE value END,
        wall_ms = CASE WHEN excluded.step >= step THEN excluded.wall_ms ELSE wall_ms END,
        step = MAX(step, excluded.step),
        min_value = MIN(COALESCE(min_value, excluded.min_value), COALESCE(excluded.min_value, min_value)),
        max_value = MAX(COALESCE(max_value, excluded.max_value), COALESCE(excluded.max_value, max_value)),
        count = count + excluded.count
    )sql");
    for (const auto& [key, s] : summaries) {
      upsert.bind(1, run_id);
      upsert.bind(2, key);
      upsert.bind(3, s.latest->step);
      BindValue(upsert, 4, s.latest->value);
      upsert.bind(5, s.latest->wall_ms);
      BindValue(upsert, 6, s.min);
      BindValue(upsert, 7, s.max);
      upsert.bind(8, s.count);
      upsert.exec();
      upsert.reset();
    }
    result.accepted = static_cast<int64_t>(points.size());
    return absl::OkStatus();
  }));
  if (result.accepted > 0) changes_.Notify();
  return result;
}

absl::StatusOr<std::vector<MetricPoint>> ExperimentStore::GetMetricHistory(int64_t run_id,
                                                                           const std::string& key) {
  std::vector<MetricPoint> out;
  RETURN_IF_ERROR(db_->Read("metric history", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db, "SELECT step, value, wall_ms FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, seq");
    q.bind(1, run_id);
    q.bind(2, key);
    while (q.executeStep()) {
      out.push_back({key, q.getColumn(0).getInt64(), MetricValueOrNan(q.getColumn(1)), q.getColumn(2).getInt64()});
    }
    if (out.empty()) {
      return absl::NotFoundError(absl::StrCat("run ", run_id, " has no metric '", key, "'"));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<StoredMetricPoint>> ExperimentStore::MetricsSince(
    int64_t run_id, int64_t after_seq, const std::vector<std::string>& keys, int limit) {
  std::vector<StoredMetricPoint> out;
  RETURN_IF_ERROR(db_->Read("read new metrics", [&](SQLite::Database& db) -> absl::Status {
    std::vector<SqlValue> bindings = {run_id, after_seq};
    std::string sql = "SELECT seq, key, step, value, wall_ms FROM metrics WHERE run_id = ? AND seq > ?";
    if (!keys.empty()) {
      absl::StrAppend(&sql, " AND key IN (", Placeholders(keys.size()), ")");
      for (const std::string& k : keys) bindings.push_back(k);
    }
    absl::StrAppend(&sql, " ORDER BY seq LIMIT ?");
    bindings.push_back(static_cast<int64_t>(limit));
    SQLite::Statement q(db, sql);
    BindAll(q, bindings);
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getInt64(),
                     {q.getColumn(1).getString(), q.getColumn(2).getInt64(), MetricValueOrNan(q.getColumn(3)),
                      q.getColumn(4).getInt64()}});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> ExperimentStore::LastMetricSeq(int64_t run_id) {
  int64_t seq = 0;
  RETURN_IF_ERROR(db_->Read("last metric", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    // The global maximum is enough: watches only need "nothing older".
    seq = db.execAndGet("SELECT COALESCE(MAX(seq), 0) FROM metrics").getInt64();
    return absl::OkStatus();
  }));
  return seq;
}

}  // namespace dreamshot::experiments

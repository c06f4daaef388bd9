#include "experiments/run_loader.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <cmath>
#include <limits>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::experiments {
std::optional<int64_t> OptionalInt64(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

double MetricValueOrNan(const SQLite::Column& column) {
  return column.isNull() ? std::numeric_limits<double>::quiet_NaN() : column.getDouble();
}

void BindAll(SQLite::Statement& statement, const std::vector<SqlValue>& values, int first_index) {
  int index = first_index;
  for (const SqlValue& value : values) {
    if (const auto* i = std::get_if<int64_t>(&value)) {
      statement.bind(index, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      statement.bind(index, *d);
    } else {
      statement.bind(index, std::get<std::string>(value));
    }
    ++index;
  }
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, i ? ", ?" : "?");
  return out;
}

absl::StatusOr<std::vector<Run>> LoadRuns(SQLite::Database& db, const std::vector<int64_t>& ids) {
  std::vector<Run> runs(ids.size());
  if (ids.empty()) return runs;
  std::unordered_map<int64_t, std::vector<size_t>> slots;  // id -> positions in `runs`
  std::vector<SqlValue> id_values;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (slots[ids[i]].empty()) id_values.push_back(ids[i]);
    slots[ids[i]].push_back(i);
  }
  const std::string in = Placeholders(id_values.size());
  auto for_each_slot = [&](int64_t id, const auto& fn) {
    for (size_t slot : slots[id]) fn(runs[slot]);
  };

  SQLite::Statement rows(db,
                         absl::StrCat("SELECT id, experiment_id, name, status, start_ms, end_ms, parent_run_id, notes, "
                                      "config_type, config_json, created_ms FROM runs WHERE id IN (",
                                      in, ")"));
  BindAll(rows, id_values);
  size_t found = 0;
  while (rows.executeStep()) {
    absl::StatusOr<RunStatus> status = ParseRunStatus(rows.getColumn(3).getString());
    if (!status.ok()) return status.status();
    ++found;
    for_each_slot(rows.getColumn(0).getInt64(), [&](Run& run) {
      run.id = rows.getColumn(0).getInt64();
      run.experiment_id = rows.getColumn(1).getInt64();
      run.name = rows.getColumn(2).getString();
      run.status = *status;
      run.start_ms = OptionalInt64(rows.getColumn(4));
      run.end_ms = OptionalInt64(rows.getColumn(5));
      run.parent_run_id = OptionalInt64(rows.getColumn(6));
      run.notes = rows.getColumn(7).getString();
      run.config_type = rows.getColumn(8).getString();
      run.config_json = rows.getColumn(9).getString();
      run.created_ms = rows.getColumn(10).getInt64();
    });
  }
  if (found != id_values.size()) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (runs[i].id == 0) return absl::NotFoundError(absl::StrCat("run ", ids[i], " does not exist"));
    }
  }

  SQLite::Statement tags(db, absl::StrCat("SELECT run_id, key, value FROM run_tags WHERE run_id IN (", in, ")"));
  BindAll(tags, id_values);
  while (tags.executeStep()) {
    for_each_slot(tags.getColumn(0).getInt64(),
                  [&](Run& run) { run.tags[tags.getColumn(1).getString()] = tags.getColumn(2).getString(); });
  }
  SQLite::Statement params(db, absl::StrCat("SELECT run_id, key, value FROM params WHERE run_id IN (", in, ")"));
  BindAll(params, id_values);
  while (params.executeStep()) {
    for_each_slot(params.getColumn(0).getInt64(),
                  [&](Run& run) { run.params[params.getColumn(1).getString()] = params.getColumn(2).getString(); });
  }
  SQLite::Statement metrics(db, absl::StrCat("SELECT run_id, key, step, value, wall_ms, min_value, max_value, count "
                                             "FROM latest_metrics WHERE run_id IN (",
                                             in, ") ORDER BY run_id, key"));
  BindAll(metrics, id_values);
  while (metrics.executeStep()) {
    MetricSummary m;
    m.key = metrics.getColumn(1).getString();
    m.step = metrics.getColumn(2).getInt64();
    m.value = MetricValueOrNan(metrics.getColumn(3));
    m.wall_ms = metrics.getColumn(4).getInt64();
    m.min = MetricValueOrNan(metrics.getColumn(5));
    m.max = MetricValueOrNan(metrics.getColumn(6));
    m.count = metrics.getColumn(7).getInt64();
    for_each_slot(metrics.getColumn(0).getInt64(), [&](Run& run) { run.metrics.push_back(m); });
  }
  return runs;
}

absl::StatusOr<RunStatus> LoadRunStatus(SQLite::Database& db, int64_t run_id) {
  SQLite::Statement q(db, "SELECT status FROM runs WHERE id = ?");
  q.bind(1, run_id);
  if (!q.executeStep()) return absl::NotFoundError(absl::StrCat("run ", run_id, " does not exist"));
  return ParseRunStatus(q.getColumn(0).getString());
}

absl::StatusOr<Experiment> LoadExperiment(SQLite::Database& db, int64_t id) {
  SQLite::Statement q(db,
                      "SELECT id, name, description, created_ms, "
                      "(SELECT COUNT(*) FROM runs WHERE experiment_id = e.id) "
                      "FROM experiments e WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) {
    return absl::NotFoundError(absl::StrCat("experiment ", id, " does not exist"));
  }
  Experiment e;
  e.id = q.getColumn(0).getInt64();
  e.name = q.getColumn(1).getString();
  e.description = q.getColumn(2).getString();
  e.created_ms = q.getColumn(3).getInt64();
  e.run_count = q.getColumn(4).getInt64();
  SQLite::Statement tags(db, "SELECT key, value FROM experiment_tags WHERE experiment_id = ?");
  tags.bind(1, id);
  while (tags.executeStep()) e.tags[tags.getColumn(0).getString()] = tags.getColumn(1).getString();
  return e;
}

}  // namespace dreamshot::experiments

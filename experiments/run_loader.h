// Reading runs (with tags, params and latest metrics) inside an open
// transaction; shared by the store's run, search and comparison queries.
#ifndef DREAMSHOT_EXPERIMENTS_RUN_LOADER_H_
#define DREAMSHOT_EXPERIMENTS_RUN_LOADER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/sql_value.h"
#include "experiments/types.h"

namespace SQLite {
class Column;
class Database;
class Statement;
}  // namespace SQLite

namespace dreamshot::experiments {

// SQLite has no NaN: NULL in a metric value column stands for it.
double MetricValueOrNan(const SQLite::Column& column);
// A nullable INTEGER column: empty for NULL.
std::optional<int64_t> OptionalInt64(const SQLite::Column& column);

// Binds `values` to placeholders first_index, first_index+1, ...
void BindAll(SQLite::Statement& statement, const std::vector<SqlValue>& values, int first_index = 1);

// "?, ?, ?" with n placeholders.
std::string Placeholders(size_t n);

// The runs with `ids`, in that order. NOT_FOUND names the first missing id.
absl::StatusOr<std::vector<Run>> LoadRuns(SQLite::Database& db, const std::vector<int64_t>& ids);

// NOT_FOUND "run 42 does not exist" unless the run exists; returns its status.
absl::StatusOr<RunStatus> LoadRunStatus(SQLite::Database& db, int64_t run_id);

absl::StatusOr<Experiment> LoadExperiment(SQLite::Database& db, int64_t id);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_RUN_LOADER_H_

// Run search: the filter and order-by compile to parameterised SQL
// (experiments/filter.h); pages are addressed by an opaque token bound to the
// query it came from.
#include <SQLiteCpp/SQLiteCpp.h>

#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "experiments/filter.h"
#include "experiments/run_loader.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

// Fingerprint of everything but the page position, so a token is only
// accepted for the query that produced it.
std::string QueryFingerprint(const RunQuery& q) {
  const size_t h = std::hash<std::string>{}(
      absl::StrCat(absl::StrJoin(q.experiment_ids, ","), "\x1f", q.filter, "\x1f", q.order_by));
  return absl::StrCat(absl::Hex(h & 0xffffffffu));
}

std::string MakePageToken(const RunQuery& q, int64_t offset) {
  return absl::StrCat(offset, ".", QueryFingerprint(q));
}

absl::StatusOr<int64_t> ParsePageToken(const RunQuery& q) {
  if (q.page_token.empty()) return 0;
  std::vector<std::string> parts = absl::StrSplit(q.page_token, '.');
  int64_t offset = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &offset) || offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat("malformed page token '", q.page_token, "'"));
  }
  if (parts[1] != QueryFingerprint(q)) {
    return absl::InvalidArgumentError(
        "page token belongs to a different query (experiments, filter or order changed)");
  }
  return offset;
}

// Ids of matching runs, ordered, [offset, offset + limit).
absl::StatusOr<std::vector<int64_t>> MatchingRunIds(SQLite::Database& db, const RunQuery& q,
                                                    const SqlFragment& where,
                                                    const SqlFragment& order, int64_t offset,
                                                    int64_t limit) {
  std::vector<SqlValue> bindings;
  std::string sql = "SELECT r.id FROM runs r WHERE ";
  if (!q.experiment_ids.empty()) {
    absl::StrAppend(&sql, "r.experiment_id IN (", Placeholders(q.experiment_ids.size()), ") AND ");
    for (int64_t id : q.experiment_ids) bindings.push_back(id);
  }
  absl::StrAppend(&sql, "(", where.sql, ") ORDER BY ", order.sql, " LIMIT ? OFFSET ?");
  bindings.insert(bindings.end(), where.bindings.begin(), where.bindings.end());
  bindings.insert(bindings.end(), order.bindings.begin(), order.bindings.end());
  bindings.push_back(limit);
  bindings.push_back(offset);
  SQLite::Statement statement(db, sql);
  BindAll(statement, bindings);
  std::vector<int64_t> ids;
  while (statement.executeStep()) ids.push_back(statement.getColumn(0).getInt64());
  return ids;
}

absl::Status CheckExperimentsExist(SQLite::Database& db, const std::vector<int64_t>& ids) {
  for (int64_t id : ids) RETURN_IF_ERROR(LoadExperiment(db, id).status());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunPage> ExperimentStore::SearchRuns(const RunQuery& query) {
  RunQuery q = query;
  if (q.page_size <= 0) q.page_size = 100;
  if (q.page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("page_size ", q.page_size, " exceeds the limit of ",
                                                   kMaxPageSize));
  }
  ASSIGN_OR_RETURN(SqlFragment where, CompileRunFilter(q.filter));
  ASSIGN_OR_RETURN(SqlFragment order, CompileRunOrderBy(q.order_by));
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(q));
  RunPage page;
  RETURN_IF_ERROR(db_->Read("search runs", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(CheckExperimentsExist(db, q.experiment_ids));
    // One extra row tells whether another page follows.
    ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                     MatchingRunIds(db, q, where, order, offset, q.page_size + 1));
    if (static_cast<int64_t>(ids.size()) > q.page_size) {
      ids.pop_back();
      page.next_page_token = MakePageToken(q, offset + q.page_size);
    }
    ASSIGN_OR_RETURN(page.runs, LoadRuns(db, ids));
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<std::vector<Run>> ExperimentStore::SearchAllRuns(const RunQuery& query, int limit) {
  ASSIGN_OR_RETURN(SqlFragment where, CompileRunFilter(query.filter));
  ASSIGN_OR_RETURN(SqlFragment order, CompileRunOrderBy(query.order_by));
  std::vector<Run> runs;
  RETURN_IF_ERROR(db_->Read("search runs", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(CheckExperimentsExist(db, query.experiment_ids));
    ASSIGN_OR_RETURN(std::vector<int64_t> ids, MatchingRunIds(db, query, where, order, 0, limit + 1));
    if (static_cast<int>(ids.size()) > limit) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "more than ", limit, " runs match; narrow the filter"));
    }
    ASSIGN_OR_RETURN(runs, LoadRuns(db, ids));
    return absl::OkStatus();
  }));
  return runs;
}

}  // namespace dreamshot::experiments

// Experiments, runs, tags and params. Metrics and search are in
// store_metrics.cc and store_search.cc.
#include "experiments/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/numeric_text.h"
#include "experiments/run_loader.h"

namespace dreamshot::experiments {
namespace {

absl::Status CheckKey(absl::string_view what, absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " key is empty"));
  if (key.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError(absl::StrCat(what, " key '", key.substr(0, 40), "...' is ",
                                                   key.size(), " characters (limit ",
                                                   kMaxKeyLength, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyValues(absl::string_view what, const std::map<std::string, std::string>& kv) {
  for (const auto& [key, value] : kv) {
    RETURN_IF_ERROR(CheckKey(what, key));
    if (value.size() > kMaxValueLength) {
      return absl::InvalidArgumentError(absl::StrCat(what, " '", key, "' has a value of ",
                                                     value.size(), " characters (limit ",
                                                     kMaxValueLength, ")"));
    }
  }
  return absl::OkStatus();
}

bool IsUniqueViolation(const SQLite::Exception& e) {
  return e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE ||
         e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY;
}

// Allowed transitions: forward only, terminal states are final.
absl::Status CheckTransition(int64_t run_id, RunStatus from, RunStatus to) {
  if (from == to) return absl::OkStatus();
  const bool ok = !IsTerminal(from) && !(from == RunStatus::kRunning && to == RunStatus::kQueued);
  if (ok) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is ", RunStatusName(from),
                                                    " and cannot become ", RunStatusName(to)));
}

void InsertParams(SQLite::Database& db, int64_t run_id, const Params& params) {
  SQLite::Statement insert(db, "INSERT INTO params (run_id, key, value, value_num) VALUES (?, ?, ?, ?)");
  for (const auto& [key, value] : params) {
    insert.bind(1, run_id);
    insert.bind(2, key);
    insert.bind(3, value);
    if (std::optional<double> number = ParseNumericText(value)) {
      insert.bind(4, *number);
    } else {
      insert.bind(4);
    }
    insert.exec();
    insert.reset();
  }
}

void UpsertTags(SQLite::Database& db, const char* sql, int64_t owner_id, const Tags& tags) {
  SQLite::Statement upsert(db, sql);
  for (const auto& [key, value] : tags) {
    upsert.bind(1, owner_id);
    upsert.bind(2, key);
    upsert.bind(3, value);
    upsert.exec();
    upsert.reset();
  }
}

constexpr char kUpsertRunTag[] =
    "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value";

// Sets a run's status and one timestamp column (`times` binds the current
// time once), appends `note` to its notes on a line of its own, and
// returns the run as stored.
absl::StatusOr<Run> SetRunStatus(SQLite::Database& db, int64_t id, RunStatus status, const std::string& times,
                                 const std::string& note) {
  SQLite::Statement set(db, "UPDATE runs SET status = ?, " + times +
                                ", notes = CASE WHEN ? = '' THEN notes WHEN notes = '' THEN ? "
                                "ELSE notes || char(10) || ? END WHERE id = ?");
  set.bind(1, RunStatusName(status));
  set.bind(2, core::NowMillis());
  set.bind(3, note);
  set.bind(4, note);
  set.bind(5, note);
  set.bind(6, id);
  set.exec();
  ASSIGN_OR_RETURN(std::vector<Run> runs, LoadRuns(db, {id}));
  return std::move(runs[0]);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExperimentStore>> ExperimentStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  return std::unique_ptr<ExperimentStore>(new ExperimentStore(std::move(db)));
}

absl::StatusOr<Experiment> ExperimentStore::GetOrCreateExperiment(const std::string& name) {
  absl::StatusOr<Experiment> found = GetExperimentByName(name);
  if (found.status().code() != absl::StatusCode::kNotFound) return found;
  absl::StatusOr<Experiment> created = CreateExperiment(name, "", {});
  if (created.status().code() == absl::StatusCode::kAlreadyExists) return GetExperimentByName(name);  // a racer made it
  return created;
}

absl::StatusOr<Experiment> ExperimentStore::CreateExperiment(const std::string& name,
                                                             const std::string& description,
                                                             const Tags& tags) {
  RETURN_IF_ERROR(CheckKey("experiment name", name));
  RETURN_IF_ERROR(CheckKeyValues("experiment tag", tags));
  Experiment created;
  RETURN_IF_ERROR(db_->Write("create experiment", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement insert(db, "INSERT INTO experiments (name, description, created_ms) VALUES (?, ?, ?)");
    insert.bind(1, name);
    insert.bind(2, description);
    insert.bind(3, core::NowMillis());
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if (IsUniqueViolation(e)) {
        return absl::AlreadyExistsError(absl::StrCat("experiment '", name, "' already exists"));
      }
      throw;
    }
    const int64_t id = db.getLastInsertRowid();
    UpsertTags(db,
               "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
               "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
               id, tags);
    ASSIGN_OR_RETURN(created, LoadExperiment(db, id));
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<Experiment> ExperimentStore::GetExperiment(int64_t id) {
  Experiment e;
  RETURN_IF_ERROR(db_->Read("get experiment", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(e, LoadExperiment(db, id));
    return absl::OkStatus();
  }));
  return e;
}

absl::StatusOr<Experiment> ExperimentStore::GetExperimentByName(const std::string& name) {
  Experiment e;
  RETURN_IF_ERROR(db_->Read("get experiment", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, "SELECT id FROM experiments WHERE name = ?");
    q.bind(1, name);
    if (!q.executeStep()) {
      return absl::NotFoundError(absl::StrCat("experiment '", name, "' does not exist"));
    }
    ASSIGN_OR_RETURN(e, LoadExperiment(db, q.getColumn(0).getInt64()));
    return absl::OkStatus();
  }));
  return e;
}

absl::StatusOr<std::vector<Experiment>> ExperimentStore::ListExperiments() {
  std::vector<Experiment> out;
  RETURN_IF_ERROR(db_->Read("list experiments", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, "SELECT id FROM experiments ORDER BY id");
    while (q.executeStep()) {
      ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, q.getColumn(0).getInt64()));
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Run> ExperimentStore::CreateRun(const NewRun& run) {
  RETURN_IF_ERROR(CheckKeyValues("tag", run.tags));
  RETURN_IF_ERROR(CheckKeyValues("param", run.params));
  if (run.status != RunStatus::kQueued && run.status != RunStatus::kRunning) {
    return absl::InvalidArgumentError(absl::StrCat("a new run starts queued or running, not ",
                                                   RunStatusName(run.status)));
  }
  Run created;
  RETURN_IF_ERROR(db_->Write("create run", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadExperiment(db, run.experiment_id).status());
    if (run.parent_run_id) {
      absl::StatusOr<RunStatus> parent = LoadRunStatus(db, *run.parent_run_id);
      if (!parent.ok()) {
        return absl::NotFoundError(absl::StrCat("parent run ", *run.parent_run_id, " does not exist"));
      }
    }
    const int64_t now = core::NowMillis();
    SQLite::Statement insert(db,
                             "INSERT INTO runs (experiment_id, name, status, start_ms, parent_run_id, "
                             "notes, config_type, config_json, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, run.experiment_id);
    insert.bind(2, run.name);
    insert.bind(3, RunStatusName(run.status));
    if (run.status == RunStatus::kRunning) insert.bind(4, now); else insert.bind(4);
    if (run.parent_run_id) insert.bind(5, *run.parent_run_id); else insert.bind(5);
    insert.bind(6, run.notes);
    insert.bind(7, run.config_type);
    insert.bind(8, run.config_json);
    insert.bind(9, now);
    insert.exec();
    const int64_t id = db.getLastInsertRowid();
    UpsertTags(db, kUpsertRunTag, id, run.tags);
    InsertParams(db, id, run.params);
    ASSIGN_OR_RETURN(std::vector<Run> runs, LoadRuns(db, {id}));
    created = std::move(runs[0]);
    return absl::OkStatus();
  }));
  changes_.Notify();
  return created;
}

absl::StatusOr<Run> ExperimentStore::GetRun(int64_t id) {
  ASSIGN_OR_RETURN(std::vector<Run> runs, GetRuns({id}));
  return std::move(runs[0]);
}

absl::StatusOr<std::vector<Run>> ExperimentStore::GetRuns(const std::vector<int64_t>& ids) {
  std::vector<Run> runs;
  RETURN_IF_ERROR(db_->Read("get runs", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(runs, LoadRuns(db, ids));
    return absl::OkStatus();
  }));
  return runs;
}

absl::StatusOr<Run> ExperimentStore::UpdateRun(int64_t id, const RunUpdate& update) {
  Run updated;
  RETURN_IF_ERROR(db_->Write("update run", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(RunStatus current, LoadRunStatus(db, id));
    if (update.status && *update.status != current) {
      RETURN_IF_ERROR(CheckTransition(id, current, *update.status));
      const int64_t now = core::NowMillis();
      SQLite::Statement set(db,
                            "UPDATE runs SET status = ?, "
                            "start_ms = CASE WHEN start_ms IS NULL AND ? THEN ? ELSE start_ms END, "
                            "end_ms = CASE WHEN ? THEN ? ELSE end_ms END WHERE id = ?");
      set.bind(1, RunStatusName(*update.status));
      set.bind(2, *update.status == RunStatus::kRunning ? 1 : 0);
      set.bind(3, now);
      set.bind(4, IsTerminal(*update.status) ? 1 : 0);
      set.bind(5, now);
      set.bind(6, id);
      set.exec();
    }
    if (update.name) {
      SQLite::Statement set(db, "UPDATE runs SET name = ? WHERE id = ?");
      set.bind(1, *update.name);
      set.bind(2, id);
      set.exec();
    }
    if (update.notes) {
      SQLite::Statement set(db, "UPDATE runs SET notes = ? WHERE id = ?");
      set.bind(1, *update.notes);
      set.bind(2, id);
      set.exec();
    }
    ASSIGN_OR_RETURN(std::vector<Run> runs, LoadRuns(db, {id}));
    updated = std::move(runs[0]);
    return absl::OkStatus();
  }));
  changes_.Notify();
  return updated;
}

absl::StatusOr<Run> ExperimentStore::ReopenRun(int64_t id, const std::string& note) {
  Run reopened;
  RETURN_IF_ERROR(db_->Write("reopen run", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, id).status());
    ASSIGN_OR_RETURN(reopened, SetRunStatus(db, id, RunStatus::kRunning,
                                            "start_ms = COALESCE(start_ms, ?), end_ms = NULL", note));
    return absl::OkStatus();
  }));
  changes_.Notify();
  return reopened;
}

absl::StatusOr<Run> ExperimentStore::EndRun(int64_t id, RunStatus status, const std::string& note) {
  if (!IsTerminal(status)) {
    return absl::InvalidArgumentError(absl::StrCat("run ", id, ": a run ends finished, failed or cancelled, not ",
                                                   RunStatusName(status)));
  }
  Run ended;
  // A job that failed because the disk filled must still end its run.
  RETURN_IF_ERROR(db_->WriteEvenIfFull("end run", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(RunStatus current, LoadRunStatus(db, id));
    if (IsTerminal(current)) {
      return absl::FailedPreconditionError(absl::StrCat("run ", id, " already ended ", RunStatusName(current)));
    }
    ASSIGN_OR_RETURN(ended, SetRunStatus(db, id, status, "end_ms = ?", note));
    return absl::OkStatus();
  }));
  changes_.Notify();
  return ended;
}

absl::StatusOr<Run> ExperimentStore::SetTags(int64_t id, const Tags& set,
                                             const std::vector<std::string>& remove) {
  RETURN_IF_ERROR(CheckKeyValues("tag", set));
  Run updated;
  RETURN_IF_ERROR(db_->Write("set tags", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, id).status());
    UpsertTags(db, kUpsertRunTag, id, set);
    SQLite::Statement del(db, "DELETE FROM run_tags WHERE run_id = ? AND key = ?");
    for (const std::string& key : remove) {
      del.bind(1, id);
      del.bind(2, key);
      del.exec();
      del.reset();
    }
    ASSIGN_OR_RETURN(std::vector<Run> runs, LoadRuns(db, {id}));
    updated = std::move(runs[0]);
    return absl::OkStatus();
  }));
  return updated;
}

absl::Status ExperimentStore::LogParams(int64_t id, const Params& params) {
  RETURN_IF_ERROR(CheckKeyValues("param", params));
  return db_->Write("log params", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, id).status());
    Params fresh;
    SQLite::Statement existing(db, "SELECT value FROM params WHERE run_id = ? AND key = ?");
    for (const auto& [key, value] : params) {
      existing.bind(1, id);
      existing.bind(2, key);
      if (existing.executeStep()) {
        const std::string old = existing.getColumn(0).getString();
        if (old != value) {
          return absl::InvalidArgumentError(absl::StrCat("param '", key, "' of run ", id,
                                                         " is already '", old,
                                                         "'; params are write-once (got '", value, "')"));
        }
      } else {
        fresh[key] = value;
      }
      existing.reset();
    }
    InsertParams(db, id, fresh);
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> ExperimentStore::FailInterruptedRuns(const std::string& reason) {
  int64_t changed = 0;
  const int64_t now = core::NowMillis();
  const std::string note = absl::StrCat("found interrupted at ", NoteTime(now), " (", reason, ")");
  RETURN_IF_ERROR(db_->Write("fail interrupted runs", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement update(db,
                             "UPDATE runs SET status = 'failed', end_ms = ?, "
                             "notes = CASE WHEN notes = '' THEN ? ELSE notes || char(10) || ? END "
                             "WHERE status IN ('queued', 'running') "
                             // A survey's run lives as long as the survey is
                             // open, across restarts: no process runs it.
                             "AND id NOT IN (SELECT run_id FROM surveys) "
                             // A client's run (a training script's) is driven
                             // by the client, which may still be alive.
                             "AND id IN (SELECT run_id FROM run_tags WHERE key = 'dreamshot.kind')");
    update.bind(1, now);
    update.bind(2, note);
    update.bind(3, note);
    changed = update.exec();
    return absl::OkStatus();
  }));
  if (changed) changes_.Notify();
  return changed;
}

}  // namespace dreamshot::experiments

#include "experiments/job_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/database.h"

namespace dreamshot::experiments {
namespace {

constexpr char kJobColumns[] =
    "id, kind, state, device, priority, owner, parent_id, config_type, config_json, run_id, run_mode, run_plan, "
    "attempts, auto_retries, error_code, error, created_ms, started_ms, ended_ms, "
    "(SELECT COUNT(*) FROM jobs AS c WHERE c.parent_id = jobs.id)";

// The parts of a run plan that no query looks at travel as one JSON value.
std::string PlanJson(const JobRunPlan& plan) {
  nlohmann::json j = {{"experiment_id", plan.experiment_id}, {"run_name", plan.run_name},
                      {"run_kind", plan.run_kind},           {"params", plan.params},
                      {"config_type", plan.config_type},     {"config_json", plan.config_json},
                      {"path_prefix", plan.path_prefix},     {"reopen_note", plan.reopen_note}};
  return j.dump();
}

absl::Status ReadPlanJson(const std::string& text, int64_t job_id, JobRunPlan* plan) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::DataLossError(absl::StrCat("job ", job_id, ": its run plan is not a JSON object"));
  try {
    plan->experiment_id = j.value("experiment_id", int64_t{0});
    plan->run_name = j.value("run_name", "");
    plan->run_kind = j.value("run_kind", "");
    plan->params = j.value("params", std::map<std::string, std::string>{});
    plan->config_type = j.value("config_type", "");
    plan->config_json = j.value("config_json", "");
    plan->path_prefix = j.value("path_prefix", "");
    plan->reopen_note = j.value("reopen_note", "");
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("job ", job_id, ": its run plan does not read: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<JobRecord> ReadJob(SQLite::Statement& q) {
  JobRecord r;
  r.id = q.getColumn(0).getInt64();
  r.kind = q.getColumn(1).getString();
  ASSIGN_OR_RETURN(r.state, ParseJobState(q.getColumn(2).getString()));
  r.device = q.getColumn(3).getString();
  r.priority = q.getColumn(4).getInt();
  r.owner = q.getColumn(5).getString() == "client" ? JobOwner::kClient : JobOwner::kServer;
  r.parent_id = q.getColumn(6).isNull() ? 0 : q.getColumn(6).getInt64();
  r.config_type = q.getColumn(7).getString();
  r.config_json = q.getColumn(8).getString();
  r.run.run_id = q.getColumn(9).isNull() ? 0 : q.getColumn(9).getInt64();
  ASSIGN_OR_RETURN(r.run.mode, ParseRunMode(q.getColumn(10).getString()));
  RETURN_IF_ERROR(ReadPlanJson(q.getColumn(11).getString(), r.id, &r.run));
  r.attempts = q.getColumn(12).getInt();
  r.auto_retries = q.getColumn(13).getInt();
  r.error_code = q.getColumn(14).getInt();
  r.error = q.getColumn(15).getString();
  r.created_ms = q.getColumn(16).getInt64();
  if (!q.getColumn(17).isNull()) r.started_ms = q.getColumn(17).getInt64();
  if (!q.getColumn(18).isNull()) r.ended_ms = q.getColumn(18).getInt64();
  r.children = q.getColumn(19).getInt64();
  return r;
}

absl::StatusOr<JobRecord> LoadJob(SQLite::Database& db, int64_t id) {
  SQLite::Statement q(db, absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?"));
  q.bind(1, id);
  if (!q.executeStep()) return absl::NotFoundError(absl::StrCat("no job ", id));
  return ReadJob(q);
}

absl::Status WrongState(const JobRecord& job, const char* wanted) {
  return absl::FailedPreconditionError(
      absl::StrCat("job ", job.id, " is ", JobStateName(job.state), ": ", wanted));
}

}  // namespace

absl::StatusOr<JobRecord> JobStore::Create(const NewJob& job) {
  if (job.kind.empty()) return absl::InvalidArgumentError("a job needs a kind");
  if (!job.group && job.device.empty()) return absl::InvalidArgumentError("a job needs a device to run on");
  JobRecord created;
  RETURN_IF_ERROR(db_->Write("create job", [&](SQLite::Database& db) -> absl::Status {
    if (job.parent_id > 0) RETURN_IF_ERROR(LoadJob(db, job.parent_id).status());
    if (job.run.run_id > 0) {
      SQLite::Statement run(db, "SELECT 1 FROM runs WHERE id = ?");
      run.bind(1, job.run.run_id);
      if (!run.executeStep()) return absl::NotFoundError(absl::StrCat("no run ", job.run.run_id));
    }
    SQLite::Statement insert(
        db,
        "INSERT INTO jobs (kind, state, device, priority, owner, parent_id, config_type, config_json, run_id, "
        "run_mode, run_plan, created_ms, started_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const int64_t now = core::NowMillis();
    insert.bind(1, job.kind);
    insert.bind(2, JobStateName(job.group ? JobState::kRunning : JobState::kQueued));
    insert.bind(3, job.device);
    insert.bind(4, job.priority);
    insert.bind(5, JobOwnerName(job.owner));
    if (job.parent_id > 0) insert.bind(6, job.parent_id); else insert.bind(6);
    insert.bind(7, job.config_type);
    insert.bind(8, job.config_json);
    if (job.run.run_id > 0) insert.bind(9, job.run.run_id); else insert.bind(9);
    insert.bind(10, RunModeName(job.run.mode));
    insert.bind(11, PlanJson(job.run));
    insert.bind(12, now);
    if (job.group) insert.bind(13, now); else insert.bind(13);
    insert.exec();
    ASSIGN_OR_RETURN(created, LoadJob(db, db.getLastInsertRowid()));
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<JobRecord> JobStore::Get(int64_t id) {
  JobRecord out;
  RETURN_IF_ERROR(db_->Read("get job", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(out, LoadJob(db, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<JobRecord>> JobStore::List(const JobQuery& query) {
  std::vector<std::string> where;
  if (!query.states.empty()) {
    std::vector<std::string> names;
    for (JobState s : query.states) names.push_back(absl::StrCat("'", JobStateName(s), "'"));
    where.push_back(absl::StrCat("state IN (", absl::StrJoin(names, ", "), ")"));
  }
  if (!query.kind.empty()) where.push_back("kind = :kind");
  if (!query.device.empty()) where.push_back("device = :device");
  if (query.parent_id.has_value()) {
    where.push_back(*query.parent_id > 0 ? "parent_id = :parent" : "parent_id IS NULL");
  }
  if (query.after_id > 0) where.push_back("id < :after");
  const std::string sql =
      absl::StrCat("SELECT ", kJobColumns, " FROM jobs", where.empty() ? "" : " WHERE ", absl::StrJoin(where, " AND "),
                   " ORDER BY id DESC LIMIT :limit");
  std::vector<JobRecord> out;
  RETURN_IF_ERROR(db_->Read("list jobs", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, sql);
    if (!query.kind.empty()) q.bind(":kind", query.kind);
    if (!query.device.empty()) q.bind(":device", query.device);
    if (query.parent_id.value_or(0) > 0) q.bind(":parent", *query.parent_id);
    if (query.after_id > 0) q.bind(":after", query.after_id);
    q.bind(":limit", query.limit > 0 ? query.limit : 100);
    while (q.executeStep()) {
      ASSIGN_OR_RETURN(JobRecord r, ReadJob(q));
      out.push_back(std::move(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<JobRecord>> JobStore::Queued(const std::string& device) {
  std::vector<JobRecord> out;
  RETURN_IF_ERROR(db_->Read("list queued jobs", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, absl::StrCat("SELECT ", kJobColumns,
                                         " FROM jobs WHERE state = 'queued' AND device = ? "
                                         "ORDER BY priority DESC, id"));
    q.bind(1, device);
    while (q.executeStep()) {
      ASSIGN_OR_RETURN(JobRecord r, ReadJob(q));
      out.push_back(std::move(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> JobStore::CountActive(const std::string& device) {
  int64_t n = 0;
  RETURN_IF_ERROR(db_->Read("count active jobs", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running') AND device = ?");
    q.bind(1, device);
    q.executeStep();
    n = q.getColumn(0).getInt64();
    return absl::OkStatus();
  }));
  return n;
}

absl::StatusOr<std::vector<std::string>> JobStore::QueuedDevices() {
  std::vector<std::string> out;
  RETURN_IF_ERROR(db_->Read("list job devices", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, "SELECT DISTINCT device FROM jobs WHERE state = 'queued' AND device != '' ORDER BY 1");
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<JobRecord> JobStore::MarkStarted(int64_t id) {
  JobRecord out;
  RETURN_IF_ERROR(db_->Write("start job", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, id));
    if (job.state != JobState::kQueued) return WrongState(job, "only a queued job can start");
    SQLite::Statement update(db,
                             "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_ms = ?, "
                             "ended_ms = NULL, error_code = 0, error = '' WHERE id = ?");
    update.bind(1, core::NowMillis());
    update.bind(2, id);
    update.exec();
    ASSIGN_OR_RETURN(out, LoadJob(db, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status JobStore::SetRun(int64_t id, int64_t run_id) {
  return db_->Write("set job run", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement update(db, "UPDATE jobs SET run_id = ? WHERE id = ?");
    update.bind(1, run_id);
    update.bind(2, id);
    if (update.exec() != 1) return absl::NotFoundError(absl::StrCat("no job ", id));
    return absl::OkStatus();
  });
}

absl::StatusOr<JobRecord> JobStore::End(int64_t id, JobState state, int error_code, const std::string& error) {
  if (!IsTerminal(state)) {
    return absl::InvalidArgumentError(absl::StrCat("a job cannot end ", JobStateName(state)));
  }
  JobRecord out;
  // A job ending failed because the disk filled must still be recorded.
  RETURN_IF_ERROR(db_->WriteEvenIfFull("end job", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, id));
    if (IsTerminal(job.state)) return WrongState(job, "it has already ended");
    SQLite::Statement update(db, "UPDATE jobs SET state = ?, ended_ms = ?, error_code = ?, error = ? WHERE id = ?");
    update.bind(1, JobStateName(state));
    update.bind(2, core::NowMillis());
    update.bind(3, error_code);
    update.bind(4, error);
    update.bind(5, id);
    update.exec();
    ASSIGN_OR_RETURN(out, LoadJob(db, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<JobRecord> JobStore::Requeue(int64_t id, bool automatic, const std::string& reopen_note) {
  JobRecord out;
  RETURN_IF_ERROR(db_->Write("queue job again", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, id));
    if (!IsRetryable(job.state)) {
      return WrongState(job, "only a failed, cancelled or interrupted job can be queued again");
    }
    if (job.device.empty()) return WrongState(job, "a group runs no work of its own; retry its children");
    // The job continues its run, which it reopens when it starts; a job
    // that adds to someone else's run just adds again.
    RunMode mode = job.run.mode;
    if (mode == RunMode::kNew && job.run.run_id > 0) mode = RunMode::kResume;
    job.run.reopen_note = reopen_note;
    SQLite::Statement update(db,
                             "UPDATE jobs SET state = 'queued', ended_ms = NULL, run_mode = ?, run_plan = ?, "
                             "auto_retries = CASE WHEN ? THEN auto_retries + 1 ELSE 0 END WHERE id = ?");
    update.bind(1, RunModeName(mode));
    update.bind(2, PlanJson(job.run));
    update.bind(3, automatic ? 1 : 0);
    update.bind(4, id);
    update.exec();
    ASSIGN_OR_RETURN(out, LoadJob(db, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<JobRecord> JobStore::SettleGroup(int64_t id) {
  JobRecord out;
  RETURN_IF_ERROR(db_->WriteEvenIfFull("settle job group", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(JobRecord group, LoadJob(db, id));
    SQLite::Statement q(db,
                        "SELECT SUM(state IN ('queued', 'running')), SUM(state = 'finished'), COUNT(*) "
                        "FROM jobs WHERE parent_id = ?");
    q.bind(1, id);
    q.executeStep();
    const int64_t active = q.getColumn(0).getInt64(), finished = q.getColumn(1).getInt64(),
                  total = q.getColumn(2).getInt64();
    const int64_t now = core::NowMillis();
    if (active > 0 && IsTerminal(group.state)) {
      SQLite::Statement update(db, "UPDATE jobs SET state = 'running', ended_ms = NULL, error_code = 0, error = '' "
                                   "WHERE id = ?");
      update.bind(1, id);
      update.exec();
    } else if (active == 0 && total > 0) {
      const bool all = finished == total;
      SQLite::Statement update(db, "UPDATE jobs SET state = ?, ended_ms = ?, error_code = ?, error = ? WHERE id = ?");
      update.bind(1, all ? "finished" : "failed");
      update.bind(2, now);
      update.bind(3, all ? 0 : static_cast<int>(absl::StatusCode::kAborted));
      update.bind(4, all ? std::string() : absl::StrCat(total - finished, " of ", total, " jobs did not finish"));
      update.bind(5, id);
      update.exec();
    }
    ASSIGN_OR_RETURN(out, LoadJob(db, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<JobRecord>> JobStore::InterruptRunning(const std::string& reason) {
  std::vector<JobRecord> out;
  RETURN_IF_ERROR(db_->Write("interrupt running jobs", [&](SQLite::Database& db) -> absl::Status {
    std::vector<int64_t> ids;
    {
      SQLite::Statement q(db, "SELECT id FROM jobs WHERE state = 'running' AND owner = 'server' AND device != ''");
      while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
    }
    SQLite::Statement update(db, "UPDATE jobs SET state = 'interrupted', ended_ms = ?, error_code = ?, error = ? "
                                 "WHERE id = ?");
    for (int64_t id : ids) {
      update.reset();
      update.bind(1, core::NowMillis());
      update.bind(2, static_cast<int>(absl::StatusCode::kUnavailable));
      update.bind(3, reason);
      update.bind(4, id);
      update.exec();
      ASSIGN_OR_RETURN(JobRecord job, LoadJob(db, id));
      out.push_back(std::move(job));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments

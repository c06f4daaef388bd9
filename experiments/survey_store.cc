// Surveys and their item snapshots: creation, lookup, status (which its
// run follows) and how often each item was assigned.
#include "experiments/survey_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/change_signal.h"
#include "experiments/database.h"
#include "experiments/run_loader.h"
#include "experiments/store_limits.h"
#include "experiments/survey_rows.h"

namespace dreamshot::experiments {
namespace {

absl::Status CheckArtifact(SQLite::Database& db, int64_t artifact_id) {
  SQLite::Statement q(db, "SELECT 1 FROM artifacts WHERE id = ?");
  q.bind(1, artifact_id);
  if (!q.executeStep()) return absl::NotFoundError(absl::StrCat("survey item: no artifact ", artifact_id));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Survey> SurveyStore::CreateSurvey(const Survey& survey, const std::vector<SurveyItem>& items) {
  if (survey.name.empty() || survey.name.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError("a survey name needs 1 to 250 characters");
  }
  if (items.empty()) return absl::InvalidArgumentError("a survey needs at least one item");
  for (const SurveyItem& i : items) {
    if (i.label_x.empty() || i.label_y.empty()) {
      return absl::InvalidArgumentError("every survey item needs both system labels");
    }
  }
  Survey stored;
  RETURN_IF_ERROR(db_->Write("create survey", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, survey.run_id).status());
    SQLite::Statement insert(db,
                             "INSERT INTO surveys (run_id, name, status, config, created_ms) VALUES (?, ?, 'draft', "
                             "?, ?)");
    insert.bind(1, survey.run_id);
    insert.bind(2, survey.name);
    insert.bind(3, survey.config_json);
    insert.bind(4, core::NowMillis());
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(absl::StrCat("a survey named '", survey.name, "' exists already"));
      }
      throw;
    }
    const int64_t id = db.getLastInsertRowid();
    SQLite::Statement add(db,
                          "INSERT INTO survey_items (survey_id, pair_id, attention, prompt, shot_type, label_x, "
                          "label_y, artifact_x, artifact_y) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const SurveyItem& i : items) {
      RETURN_IF_ERROR(CheckArtifact(db, i.artifact_x));
      RETURN_IF_ERROR(CheckArtifact(db, i.artifact_y));
      add.bind(1, id);
      if (i.pair_id) {
        add.bind(2, *i.pair_id);
      } else {
        add.bind(2);
      }
      add.bind(3, i.attention);
      add.bind(4, i.prompt);
      add.bind(5, i.shot_type);
      add.bind(6, i.label_x);
      add.bind(7, i.label_y);
      add.bind(8, i.artifact_x);
      add.bind(9, i.artifact_y);
      add.exec();
      add.reset();
    }
    ASSIGN_OR_RETURN(stored, LoadSurveyById(db, id));
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<Survey> SurveyStore::GetSurvey(int64_t id) {
  Survey out;
  RETURN_IF_ERROR(db_->Read("get survey", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(out, LoadSurveyById(db, id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Survey> SurveyStore::GetSurveyByName(const std::string& name) {
  Survey out;
  RETURN_IF_ERROR(db_->Read("get survey", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(
        out, LoadSurvey(
                 db, "name = ?", [&](SQLite::Statement& q) { q.bind(1, name); }, absl::StrCat("named '", name, "'")));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<Survey>> SurveyStore::ListSurveys() {
  std::vector<Survey> out;
  RETURN_IF_ERROR(db_->Read("list surveys", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, absl::StrCat("SELECT ", kSurveyColumns, " FROM surveys ORDER BY id"));
    while (q.executeStep()) out.push_back(ReadSurvey(q));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<Survey> SurveyStore::SetSurveyStatus(int64_t id, const std::string& status) {
  if (status != "open" && status != "closed") {
    return absl::InvalidArgumentError(absl::StrCat("a survey can be set open or closed, not '", status, "'"));
  }
  Survey out;
  RETURN_IF_ERROR(db_->Write("set survey status", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(Survey current, LoadSurveyById(db, id));
    if (current.status == status) {
      out = current;
      return absl::OkStatus();
    }
    if (status == "closed" && current.status == "draft") {
      return absl::FailedPreconditionError(absl::StrCat("survey '", current.name, "' was never opened"));
    }
    SQLite::Statement set(
        db, absl::StrCat("UPDATE surveys SET status = ?, ",
                         status == "open" ? "opened_ms = COALESCE(opened_ms, ?)" : "closed_ms = ?", " WHERE id = ?"));
    set.bind(1, status);
    set.bind(2, core::NowMillis());
    set.bind(3, id);
    set.exec();
    // The survey's run follows it: running while the survey can take
    // answers, finished (ended when it closed) after. Reopening runs it again.
    SQLite::Statement run(db, status == "open" ? "UPDATE runs SET status = 'running', end_ms = NULL WHERE id = ?"
                                               : "UPDATE runs SET status = 'finished', end_ms = ? WHERE id = ?");
    if (status == "open") {
      run.bind(1, current.run_id);
    } else {
      run.bind(1, core::NowMillis());
      run.bind(2, current.run_id);
    }
    run.exec();
    ASSIGN_OR_RETURN(out, LoadSurveyById(db, id));
    return absl::OkStatus();
  }));
  run_changes_->Notify();
  return out;
}

absl::StatusOr<std::vector<SurveyItem>> SurveyStore::ListSurveyItems(int64_t survey_id) {
  std::vector<SurveyItem> out;
  RETURN_IF_ERROR(db_->Read("list survey items", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadSurveyById(db, survey_id).status());
    SQLite::Statement q(db,
                        absl::StrCat("SELECT ", kItemColumns, " FROM survey_items WHERE survey_id = ? ORDER BY id"));
    q.bind(1, survey_id);
    while (q.executeStep()) out.push_back(ReadSurveyItem(q));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::map<int64_t, int64_t>> SurveyStore::SurveyShownCounts(int64_t survey_id) {
  std::map<int64_t, int64_t> out;
  RETURN_IF_ERROR(db_->Read("count survey assignments", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadSurveyById(db, survey_id).status());
    out = ShownCounts(db, survey_id);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments

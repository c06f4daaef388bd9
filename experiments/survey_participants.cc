// Survey participants: joining with an assignment, consent, answers, and
// the snapshot a participant's page reads.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/change_signal.h"
#include "experiments/database.h"
#include "experiments/survey_rows.h"
#include "experiments/survey_store.h"

namespace dreamshot::experiments {
namespace {

SurveyAnswer ReadAnswer(SQLite::Statement& q) {
  SurveyAnswer a;
  a.id = q.getColumn(0).getInt64();
  a.participant_id = q.getColumn(1).getInt64();
  a.item_id = q.getColumn(2).getInt64();
  a.question = q.getColumn(3).getInt();
  a.shown = q.getColumn(4).getString();
  a.choice = q.getColumn(5).getString();
  a.idempotency_key = q.getColumn(6).getString();
  a.elapsed_ms = q.getColumn(7).getInt64();
  a.created_ms = q.getColumn(8).getInt64();
  return a;
}

bool ValidShown(const std::string& s) { return s == "A" || s == "B" || s == "neither"; }
bool ValidChoice(const std::string& s) { return s == "x" || s == "y" || s == "neither"; }

}  // namespace

absl::StatusOr<SurveyParticipant> SurveyStore::AddSurveyParticipant(int64_t survey_id, const std::string& token_hash,
                                                                    const AssignFn& assign) {
  SurveyParticipant out;
  RETURN_IF_ERROR(db_->Write("add survey participant", [&](SQLite::Database& db) -> absl::Status {
    ASSIGN_OR_RETURN(Survey survey, LoadSurveyById(db, survey_id));
    if (survey.status != "open") {
      return absl::FailedPreconditionError(
          absl::StrCat("survey '", survey.name, "' is ", survey.status, ": it takes no new participants"));
    }
    SQLite::Statement next(db, "SELECT COALESCE(MAX(seq) + 1, 0) FROM survey_participants WHERE survey_id = ?");
    next.bind(1, survey_id);
    next.executeStep();
    const int64_t seq = next.getColumn(0).getInt64();
    ASSIGN_OR_RETURN(std::vector<SurveyAssignment> assignments, assign(seq, ShownCounts(db, survey_id)));
    const int64_t now = core::NowMillis();
    SQLite::Statement insert(
        db, "INSERT INTO survey_participants (survey_id, seq, token_hash, created_ms) VALUES (?, ?, ?, ?)");
    insert.bind(1, survey_id);
    insert.bind(2, seq);
    insert.bind(3, token_hash);
    insert.bind(4, now);
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError("this participant token is in use");
      }
      throw;
    }
    const int64_t pid = db.getLastInsertRowid();
    SQLite::Statement item_of_survey(db, "SELECT 1 FROM survey_items WHERE id = ? AND survey_id = ?");
    SQLite::Statement add(db,
                          "INSERT INTO survey_assignments (participant_id, position, item_id, swapped) VALUES (?, "
                          "?, ?, ?)");
    for (const SurveyAssignment& a : assignments) {
      item_of_survey.bind(1, a.item_id);
      item_of_survey.bind(2, survey_id);
      if (!item_of_survey.executeStep()) {
        return absl::InternalError(absl::StrCat("assignment names item ", a.item_id, ", not of survey ", survey_id));
      }
      item_of_survey.reset();
      add.bind(1, pid);
      add.bind(2, a.position);
      add.bind(3, a.item_id);
      add.bind(4, a.swapped ? 1 : 0);
      add.exec();
      add.reset();
    }
    SQLite::Statement q(db, absl::StrCat("SELECT ", kParticipantColumns, " FROM survey_participants WHERE id = ?"));
    q.bind(1, pid);
    q.executeStep();
    out = ReadSurveyParticipant(q);
    return absl::OkStatus();
  }));
  run_changes_->Notify();
  return out;
}

absl::StatusOr<SurveyParticipant> SurveyStore::FindSurveyParticipant(const std::string& token_hash) {
  SurveyParticipant out;
  RETURN_IF_ERROR(db_->Read("find survey participant", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db,
                        absl::StrCat("SELECT ", kParticipantColumns, " FROM survey_participants WHERE token_hash = ?"));
    q.bind(1, token_hash);
    if (!q.executeStep()) return absl::NotFoundError("unknown participant token");
    out = ReadSurveyParticipant(q);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<SurveyParticipant>> SurveyStore::ListSurveyParticipants(int64_t survey_id) {
  std::vector<SurveyParticipant> out;
  RETURN_IF_ERROR(db_->Read("list survey participants", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadSurveyById(db, survey_id).status());
    SQLite::Statement q(
        db, absl::StrCat("SELECT ", kParticipantColumns, " FROM survey_participants WHERE survey_id = ? ORDER BY seq"));
    q.bind(1, survey_id);
    while (q.executeStep()) out.push_back(ReadSurveyParticipant(q));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<SurveyAssignment>> SurveyStore::ListSurveyAssignments(int64_t participant_id) {
  std::vector<SurveyAssignment> out;
  RETURN_IF_ERROR(db_->Read("list survey assignments", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db,
                        "SELECT position, item_id, swapped FROM survey_assignments WHERE participant_id = ? ORDER BY "
                        "position");
    q.bind(1, participant_id);
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getInt() != 0});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status SurveyStore::MarkSurveyConsent(int64_t participant_id) {
  return db_->Write("survey consent", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement set(db, "UPDATE survey_participants SET consented_ms = COALESCE(consented_ms, ?) WHERE id = ?");
    set.bind(1, core::NowMillis());
    set.bind(2, participant_id);
    if (set.exec() == 0) return absl::NotFoundError(absl::StrCat("no survey participant ", participant_id));
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> SurveyStore::RecordSurveyAnswers(int64_t participant_id,
                                                      const std::vector<SurveyAnswer>& answers) {
  if (answers.empty()) return absl::InvalidArgumentError("no answers given");
  for (const SurveyAnswer& a : answers) {
    if (a.item_id != answers[0].item_id || a.idempotency_key != answers[0].idempotency_key) {
      return absl::InvalidArgumentError("answers recorded together must be of one item with one idempotency key");
    }
    if (!ValidShown(a.shown) || !ValidChoice(a.choice)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid answer '", a.shown, "'/'", a.choice, "'"));
    }
    if (a.idempotency_key.empty() || a.idempotency_key.size() > 128) {
      return absl::InvalidArgumentError("an idempotency key needs 1 to 128 characters");
    }
  }
  bool replayed = false;
  RETURN_IF_ERROR(db_->Write("record survey answers", [&](SQLite::Database& db) -> absl::Status {
    // Checked in this transaction, not only when the participant's session
    // was read: a survey closed in between takes no more answers.
    SQLite::Statement survey(db,
                             "SELECT s.name, s.status FROM survey_participants p JOIN surveys s ON s.id = p.survey_id "
                             "WHERE p.id = ?");
    survey.bind(1, participant_id);
    if (!survey.executeStep()) return absl::NotFoundError(absl::StrCat("no survey participant ", participant_id));
    if (survey.getColumn(1).getString() != "open") {
      return absl::FailedPreconditionError(absl::StrCat("survey '", survey.getColumn(0).getString(), "' is ",
                                                        survey.getColumn(1).getString(), ": it takes no answers"));
    }
    SQLite::Statement assigned(db, "SELECT 1 FROM survey_assignments WHERE participant_id = ? AND item_id = ?");
    assigned.bind(1, participant_id);
    assigned.bind(2, answers[0].item_id);
    if (!assigned.executeStep()) {
      return absl::NotFoundError(absl::StrCat("item ", answers[0].item_id, " is not assigned to this participant"));
    }
    SQLite::Statement existing(db,
                               "SELECT question, shown, idempotency_key FROM survey_answers WHERE participant_id = ? "
                               "AND item_id = ?");
    existing.bind(1, participant_id);
    existing.bind(2, answers[0].item_id);
    std::map<int, std::pair<std::string, std::string>> stored;
    while (existing.executeStep()) {
      stored[existing.getColumn(0).getInt()] = {existing.getColumn(1).getString(), existing.getColumn(2).getString()};
    }
    if (!stored.empty()) {
      // The same answers again (a retried request, a double click): nothing to do.
      bool same = stored.size() == answers.size();
      for (const SurveyAnswer& a : answers) {
        auto it = stored.find(a.question);
        same = same && it != stored.end() && it->second.first == a.shown;
      }
      if (same) {
        replayed = true;
        return absl::OkStatus();
      }
      return absl::AlreadyExistsError(absl::StrCat("item ", answers[0].item_id, " was answered already, differently"));
    }
    const int64_t now = core::NowMillis();
    SQLite::Statement insert(db,
                             "INSERT INTO survey_answers (participant_id, item_id, question, shown, choice, "
                             "idempotency_key, elapsed_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (const SurveyAnswer& a : answers) {
      insert.bind(1, participant_id);
      insert.bind(2, a.item_id);
      insert.bind(3, a.question);
      insert.bind(4, a.shown);
      insert.bind(5, a.choice);
      insert.bind(6, a.idempotency_key);
      insert.bind(7, a.elapsed_ms);
      insert.bind(8, now);
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
          return absl::InvalidArgumentError(absl::StrCat("question ", a.question, " is answered twice"));
        }
        throw;
      }
      insert.reset();
    }
    // Finished when every assigned item has answers.
    SQLite::Statement left(db,
                           "SELECT COUNT(*) FROM survey_assignments s WHERE s.participant_id = ? AND NOT EXISTS "
                           "(SELECT 1 FROM survey_answers a WHERE a.participant_id = s.participant_id AND a.item_id "
                           "= s.item_id)");
    left.bind(1, participant_id);
    left.executeStep();
    if (left.getColumn(0).getInt64() == 0) {
      SQLite::Statement done(db, "UPDATE survey_participants SET finished_ms = ? WHERE id = ?");
      done.bind(1, now);
      done.bind(2, participant_id);
      done.exec();
    }
    return absl::OkStatus();
  }));
  if (!replayed) run_changes_->Notify();
  return replayed;
}

absl::StatusOr<std::vector<SurveyAnswer>> SurveyStore::ListSurveyAnswers(int64_t survey_id) {
  std::vector<SurveyAnswer> out;
  RETURN_IF_ERROR(db_->Read("list survey answers", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadSurveyById(db, survey_id).status());
    SQLite::Statement q(db, absl::StrCat("SELECT ", kAnswerColumns,
                                         " FROM survey_answers a JOIN survey_participants p ON p.id = "
                                         "a.participant_id WHERE p.survey_id = ? ORDER BY p.seq, a.item_id, "
                                         "a.question"));
    q.bind(1, survey_id);
    while (q.executeStep()) out.push_back(ReadAnswer(q));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<SurveyParticipantSnapshot> SurveyStore::GetSurveyParticipantSnapshot(const std::string& token_hash) {
  SurveyParticipantSnapshot out;
  RETURN_IF_ERROR(db_->Read("survey participant snapshot", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement who(db, absl::StrCat("SELECT ", kParticipantColumnsOfP, ", ", kSurveyColumnsOfS,
                                           " FROM survey_participants p JOIN surveys s ON s.id = p.survey_id WHERE "
                                           "p.token_hash = ?"));
    who.bind(1, token_hash);
    if (!who.executeStep()) return absl::NotFoundError("unknown participant token");
    out.participant = ReadSurveyParticipant(who);
    out.survey = ReadSurvey(who, 7);
    // The assigned items in order, each with its answer count (through the
    // answers' (participant_id, item_id, question) index).
    SQLite::Statement assigned(
        db, absl::StrCat("SELECT a.position, a.swapped, (SELECT COUNT(*) FROM survey_answers x WHERE "
                         "x.participant_id = a.participant_id AND x.item_id = a.item_id), ",
                         kItemColumnsOfI,
                         " FROM survey_assignments a JOIN survey_items i ON i.id = a.item_id WHERE a.participant_id "
                         "= ? ORDER BY a.position"));
    assigned.bind(1, out.participant.id);
    while (assigned.executeStep()) {
      SurveyParticipantSnapshot::Assigned a;
      a.item = ReadSurveyItem(assigned, 3);
      a.assignment = {assigned.getColumn(0).getInt64(), a.item.id, assigned.getColumn(1).getInt() != 0};
      a.answered = assigned.getColumn(2).getInt();
      out.assigned.push_back(std::move(a));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments

#include "experiments/survey_rows.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "absl/strings/str_cat.h"
#include "experiments/run_loader.h"

namespace dreamshot::experiments {

Survey ReadSurvey(SQLite::Statement& q, int c) {
  Survey s;
  s.id = q.getColumn(c).getInt64();
  s.run_id = q.getColumn(c + 1).getInt64();
  s.name = q.getColumn(c + 2).getString();
  s.status = q.getColumn(c + 3).getString();
  s.config_json = q.getColumn(c + 4).getString();
  s.created_ms = q.getColumn(c + 5).getInt64();
  s.opened_ms = OptionalInt64(q.getColumn(c + 6));
  s.closed_ms = OptionalInt64(q.getColumn(c + 7));
  return s;
}

SurveyItem ReadSurveyItem(SQLite::Statement& q, int c) {
  SurveyItem i;
  i.id = q.getColumn(c).getInt64();
  i.survey_id = q.getColumn(c + 1).getInt64();
  i.pair_id = OptionalInt64(q.getColumn(c + 2));
  i.attention = q.getColumn(c + 3).getString();
  i.prompt = q.getColumn(c + 4).getString();
  i.shot_type = q.getColumn(c + 5).getString();
  i.label_x = q.getColumn(c + 6).getString();
  i.label_y = q.getColumn(c + 7).getString();
  i.artifact_x = q.getColumn(c + 8).getInt64();
  i.artifact_y = q.getColumn(c + 9).getInt64();
  return i;
}

SurveyParticipant ReadSurveyParticipant(SQLite::Statement& q, int c) {
  SurveyParticipant p;
  p.id = q.getColumn(c).getInt64();
  p.survey_id = q.getColumn(c + 1).getInt64();
  p.seq = q.getColumn(c + 2).getInt64();
  p.token_hash = q.getColumn(c + 3).getString();
  p.created_ms = q.getColumn(c + 4).getInt64();
  p.consented_ms = OptionalInt64(q.getColumn(c + 5));
  p.finished_ms = OptionalInt64(q.getColumn(c + 6));
  return p;
}

std::map<int64_t, int64_t> ShownCounts(SQLite::Database& db, int64_t survey_id) {
  std::map<int64_t, int64_t> counts;
  SQLite::Statement q(db,
                      "SELECT a.item_id, COUNT(*) FROM survey_assignments a JOIN survey_participants p ON "
                      "p.id = a.participant_id WHERE p.survey_id = ? GROUP BY a.item_id");
  q.bind(1, survey_id);
  while (q.executeStep()) counts[q.getColumn(0).getInt64()] = q.getColumn(1).getInt64();
  return counts;
}

absl::StatusOr<Survey> LoadSurvey(SQLite::Database& db, const char* where,
                                  const std::function<void(SQLite::Statement&)>& bind, const std::string& what) {
  SQLite::Statement q(db, absl::StrCat("SELECT ", kSurveyColumns, " FROM surveys WHERE ", where));
  bind(q);
  if (!q.executeStep()) return absl::NotFoundError(absl::StrCat("no survey ", what));
  return ReadSurvey(q);
}

absl::StatusOr<Survey> LoadSurveyById(SQLite::Database& db, int64_t id) {
  return LoadSurvey(
      db, "id = ?", [&](SQLite::Statement& q) { q.bind(1, id); }, absl::StrCat(id));
}

}  // namespace dreamshot::experiments

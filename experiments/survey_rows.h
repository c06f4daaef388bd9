// Survey rows inside an open transaction: the column lists and the readers
// of surveys, items and participants, shared by survey_store.cc and
// survey_participants.cc. Private to the survey store.
#ifndef DREAMSHOT_EXPERIMENTS_SURVEY_ROWS_H_
#define DREAMSHOT_EXPERIMENTS_SURVEY_ROWS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "experiments/survey_types.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace dreamshot::experiments {

// The columns the Read* functions read, bare and with their table's alias.
inline constexpr char kSurveyColumns[] = "id, run_id, name, status, config, created_ms, opened_ms, closed_ms";
inline constexpr char kItemColumns[] =
    "id, survey_id, pair_id, attention, prompt, shot_type, label_x, label_y, artifact_x, artifact_y";
inline constexpr char kItemColumnsOfI[] =
    "i.id, i.survey_id, i.pair_id, i.attention, i.prompt, i.shot_type, i.label_x, i.label_y, i.artifact_x, "
    "i.artifact_y";
inline constexpr char kSurveyColumnsOfS[] =
    "s.id, s.run_id, s.name, s.status, s.config, s.created_ms, s.opened_ms, s.closed_ms";
inline constexpr char kParticipantColumnsOfP[] =
    "p.id, p.survey_id, p.seq, p.token_hash, p.created_ms, p.consented_ms, p.finished_ms";
inline constexpr char kParticipantColumns[] = "id, survey_id, seq, token_hash, created_ms, consented_ms, finished_ms";
inline constexpr char kAnswerColumns[] =
    "a.id, a.participant_id, a.item_id, a.question, a.shown, a.choice, a.idempotency_key, a.elapsed_ms, "
    "a.created_ms";

// The Read* functions read their columns from `c` on.
Survey ReadSurvey(SQLite::Statement& q, int c = 0);
SurveyItem ReadSurveyItem(SQLite::Statement& q, int c = 0);
SurveyParticipant ReadSurveyParticipant(SQLite::Statement& q, int c = 0);

// Item id → participants it was assigned to (items never assigned are absent).
std::map<int64_t, int64_t> ShownCounts(SQLite::Database& db, int64_t survey_id);

// The survey matching `where` (bound by `bind`); NOT_FOUND "no survey <what>".
absl::StatusOr<Survey> LoadSurvey(SQLite::Database& db, const char* where,
                                  const std::function<void(SQLite::Statement&)>& bind, const std::string& what);
absl::StatusOr<Survey> LoadSurveyById(SQLite::Database& db, int64_t id);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_SURVEY_ROWS_H_

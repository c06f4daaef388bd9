// The participant's side of a survey, behind the web page: join (a fresh
// unguessable token and a seeded, balanced assignment), the session a token
// opens, the pair at a position with its sides as this participant sees
// them, and answers. Which system is "A" for a participant and pair stays
// here, server side: ShownPair carries images, never system labels.
#ifndef DREAMSHOT_SURVEY_PARTICIPATION_H_
#define DREAMSHOT_SURVEY_PARTICIPATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/store.h"
#include "survey/survey_config.h"

namespace dreamshot::survey {

// 32 random bytes from the OS as 64 hex digits; the store keeps only their
// SHA-256 (TokenHash), so a leaked database opens no session.
std::string NewParticipantToken();
std::string TokenHash(const std::string& token);
// 64 lowercase hex digits.
bool WellFormedToken(const std::string& token);

struct JoinResult {
  std::string token;
  experiments::SurveyParticipant participant;
};

// FAILED_PRECONDITION unless the survey is open.
absl::StatusOr<JoinResult> JoinSurvey(experiments::ExperimentStore& store, int64_t survey_id);

struct Session {
  experiments::Survey survey;
  SurveyConfig config;
  experiments::SurveyParticipant participant;
  std::vector<experiments::SurveyAssignment> assignments;  // by position
  std::map<int64_t, experiments::SurveyItem> items;        // the assigned ones, by id
  std::map<int64_t, int> answered;                         // item id → questions answered
  // The first position without answers; assignments.size() when done.
  int64_t next_position = 0;
  bool finished() const { return next_position >= static_cast<int64_t>(assignments.size()); }
  // Recomputes next_position from `answered`.
  void UpdateNextPosition();
};

// UNAUTHENTICATED for a malformed or unknown token; FAILED_PRECONDITION
// ("closed") when the survey no longer takes answers.
absl::StatusOr<Session> LoadSession(experiments::ExperimentStore& store, const std::string& token);

struct ShownPair {
  int64_t position = 0, total = 0;
  std::string prompt, shot_type;
  int64_t artifact_a = 0, artifact_b = 0;  // as shown: left/"A", right/"B"
};
// OUT_OF_RANGE for a position outside the assignment.
absl::StatusOr<ShownPair> PairAt(const Session& session, int64_t position);

struct Submission {
  int64_t position = 0;
  std::vector<std::string> answers;  // per question: "A", "B" or "neither"
  std::string idempotency_key;
  int64_t elapsed_ms = 0;  // time on this pair, from the page
};

// Maps each answer to the system it means and stores them together. Returns
// true for a replay of answers already stored (nothing stored twice).
// INVALID_ARGUMENT for a wrong answer count or option, OUT_OF_RANGE for a
// position outside the assignment, ALREADY_EXISTS when the pair was
// answered already, differently. On success the pair is marked answered in
// `session` too, so its next_position is current without reading it again.
absl::StatusOr<bool> SubmitAnswers(experiments::ExperimentStore& store, Session& session, const Submission& submission);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_PARTICIPATION_H_

// The rules of taking part in a survey, behind the participant pages (the
// pages add only HTTP: tokens in cookies, JSON, status codes, pictures):
// - only an open survey shows its invitation, takes participants and
//   answers, and opens their sessions (a closed survey's links expire);
// - a token opens only its own participant, on its own survey's pages;
// - a participant consents before it sees a pair or answers;
// - it sees and answers only the pairs assigned to it, each once: the same
//   answers sent again are a replay (stored once), different ones refused;
// - it is finished when every assigned pair has answers.
// Which system is "A" for a participant and pair stays here, server side:
// ShownPair carries artifact ids, never system labels.
#ifndef DREAMSHOT_SURVEY_PARTICIPANT_SESSION_H_
#define DREAMSHOT_SURVEY_PARTICIPANT_SESSION_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/survey_store.h"
#include "survey/survey_config.h"

namespace dreamshot::survey {

// What a visitor reads before joining: title, consent text, questions and
// options. NOT_FOUND for no survey of that name (names only: /s/2 is never
// survey id 2), FAILED_PRECONDITION unless it is open.
absl::StatusOr<SurveyConfig> Invitation(experiments::SurveyStore& store, const std::string& survey_name);

struct ShownPair {
  int64_t position = 0, total = 0;
  std::string prompt, shot_type;
  int64_t artifact_a = 0, artifact_b = 0;  // as shown: left/"A", right/"B"
};

struct Submission {
  int64_t position = 0;
  std::vector<std::string> answers;  // per question: "A", "B" or "neither"
  std::string idempotency_key;
  int64_t elapsed_ms = 0;  // time on this pair, from the page
};

// One participant as one request sees it: Resume reads it with its
// assigned items in one snapshot. What may change in between (the survey
// closing, a concurrent answer) the store checks again in the transaction
// that writes.
class ParticipantSession {
 public:
  // A new participant of the survey named `survey_name`, with a seeded,
  // balanced assignment (survey/assignment.h); returns its token, the only
  // copy (the store keeps its hash). NOT_FOUND for no such survey,
  // FAILED_PRECONDITION unless it is open.
  static absl::StatusOr<std::string> Join(experiments::SurveyStore& store, const std::string& survey_name);

  // The participant holding `token`, on the pages of `survey_name`.
  // UNAUTHENTICATED for a malformed or unknown token or another survey's;
  // FAILED_PRECONDITION when the survey is not open.
  static absl::StatusOr<ParticipantSession> Resume(experiments::SurveyStore& store, const std::string& survey_name,
                                                   const std::string& token);

  const SurveyConfig& config() const { return config_; }
  bool consented() const { return consented_; }
  int64_t total() const { return static_cast<int64_t>(assignments_.size()); }
  // The first position without answers; total() once finished.
  int64_t next_position() const { return next_position_; }
  bool finished() const { return next_position_ >= total(); }
  bool IsAssigned(int64_t position) const { return position >= 0 && position < total(); }

  // Records consent; giving it again changes nothing.
  absl::Status Consent();
  // The pair at `position` as this participant sees it. PERMISSION_DENIED
  // before consent, NOT_FOUND for a position not assigned.
  absl::StatusOr<ShownPair> Pair(int64_t position) const;
  // Maps each answer to the system it means and stores them together;
  // true for a replay of answers already stored (nothing stored twice).
  // PERMISSION_DENIED before consent, NOT_FOUND for a position not
  // assigned, INVALID_ARGUMENT for a wrong answer count, option, key or
  // time, ALREADY_EXISTS when the pair was answered differently,
  // FAILED_PRECONDITION when the survey closed since Resume. On success
  // next_position() and finished() are current without another read.
  absl::StatusOr<bool> Answer(const Submission& submission);

 private:
  explicit ParticipantSession(experiments::SurveyStore& store) : store_(&store) {}
  absl::Status RequireConsent() const;
  void UpdateNextPosition();

  experiments::SurveyStore* store_;
  SurveyConfig config_;
  int64_t participant_id_ = 0;
  bool consented_ = false;
  std::vector<experiments::SurveyAssignment> assignments_;  // by position
  std::map<int64_t, experiments::SurveyItem> items_;        // the assigned ones, by id
  std::map<int64_t, int> answered_;                         // item id → questions answered
  int64_t next_position_ = 0;
};

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_PARTICIPANT_SESSION_H_

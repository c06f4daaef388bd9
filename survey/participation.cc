#include "survey/participation.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "survey/assignment.h"

namespace dreamshot::survey {

std::string NewParticipantToken() {
  std::random_device os;  // /dev/urandom on Linux
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 8; ++i) {
    uint32_t word = os();
    for (int j = 0; j < 8; ++j) {
      token.push_back(kHex[word & 0xF]);
      word >>= 4;
    }
  }
  return token;
}

std::string TokenHash(const std::string& token) { return core::Sha256Hex(token); }

bool WellFormedToken(const std::string& token) {
  if (token.size() != 64) return false;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<JoinResult> JoinSurvey(experiments::ExperimentStore& store, int64_t survey_id) {
  ASSIGN_OR_RETURN(experiments::Survey survey, store.GetSurvey(survey_id));
  ASSIGN_OR_RETURN(SurveyConfig config, SurveyConfigFromJson(survey.config_json));
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyItem> items, store.ListSurveyItems(survey_id));
  std::vector<PoolPair> pool, attention;
  for (const auto& item : items) (item.attention.empty() ? pool : attention).push_back({item.id, item.shot_type});
  AssignmentOptions options;
  options.pairs_per_participant = config.pairs_per_participant;
  options.attention_checks = attention.empty() ? 0 : config.attention_checks;
  options.seed = config.seed;
  JoinResult result;
  result.token = NewParticipantToken();
  ASSIGN_OR_RETURN(
      result.participant,
      store.AddSurveyParticipant(
          survey_id, TokenHash(result.token),
          [&](int64_t seq,
              const std::map<int64_t, int64_t>& counts) -> absl::StatusOr<std::vector<experiments::SurveyAssignment>> {
            ASSIGN_OR_RETURN(std::vector<AssignedItem> assigned, AssignPairs(pool, attention, counts, seq, options));
            std::vector<experiments::SurveyAssignment> out;
            for (size_t i = 0; i < assigned.size(); ++i) {
              out.push_back({static_cast<int64_t>(i), assigned[i].pair_id, assigned[i].swapped});
            }
            return out;
          }));
  return result;
}

absl::StatusOr<Session> LoadSession(experiments::ExperimentStore& store, const std::string& token) {
  if (!WellFormedToken(token)) return absl::UnauthenticatedError("malformed participant token");
  // Every participant request comes through here: one read transaction
  // with the participant's own items only, not the survey's whole pool.
  absl::StatusOr<experiments::SurveyParticipantSnapshot> snapshot =
      store.GetSurveyParticipantSnapshot(TokenHash(token));
  if (snapshot.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError("unknown participant token");
  }
  if (!snapshot.ok()) return snapshot.status();
  Session s;
  s.participant = std::move(snapshot->participant);
  s.survey = std::move(snapshot->survey);
  if (s.survey.status != "open") {
    return absl::FailedPreconditionError(absl::StrCat("survey '", s.survey.name, "' is ", s.survey.status));
  }
  ASSIGN_OR_RETURN(s.config, SurveyConfigFromJson(s.survey.config_json));
  s.assignments.reserve(snapshot->assigned.size());
  for (auto& a : snapshot->assigned) {
    s.assignments.push_back(a.assignment);
    if (a.answered > 0) s.answered[a.item.id] = a.answered;
    s.items.emplace(a.item.id, std::move(a.item));
  }
  s.UpdateNextPosition();
  return s;
}

void Session::UpdateNextPosition() {
  next_position = static_cast<int64_t>(assignments.size());
  for (const auto& a : assignments) {
    if (!answered.count(a.item_id)) {
      next_position = a.position;
      break;
    }
  }
}

absl::StatusOr<ShownPair> PairAt(const Session& session, int64_t position) {
  if (position < 0 || position >= static_cast<int64_t>(session.assignments.size())) {
    return absl::OutOfRangeError(
        absl::StrCat("pair ", position, " is outside this participant's ", session.assignments.size(), " pairs"));
  }
  const experiments::SurveyAssignment& a = session.assignments[position];
  const experiments::SurveyItem& item = session.items.at(a.item_id);
  ShownPair shown;
  shown.position = position;
  shown.total = static_cast<int64_t>(session.assignments.size());
  shown.prompt = item.prompt;
  shown.shot_type = item.shot_type;
  shown.artifact_a = a.swapped ? item.artifact_y : item.artifact_x;
  shown.artifact_b = a.swapped ? item.artifact_x : item.artifact_y;
  return shown;
}

absl::StatusOr<bool> SubmitAnswers(experiments::ExperimentStore& store, Session& session,
                                   const Submission& submission) {
  if (submission.position < 0 || submission.position >= static_cast<int64_t>(session.assignments.size())) {
    return absl::OutOfRangeError(absl::StrCat("pair ", submission.position, " is not assigned to this participant"));
  }
  if (submission.answers.size() != session.config.questions.size()) {
    return absl::InvalidArgumentError(absl::StrCat("give one answer per question: ", session.config.questions.size(),
                                                   " expected, ", submission.answers.size(), " given"));
  }
  if (submission.elapsed_ms < 0) return absl::InvalidArgumentError("elapsed_ms must not be negative");
  const experiments::SurveyAssignment& a = session.assignments[submission.position];
  std::vector<experiments::SurveyAnswer> answers;
  for (size_t q = 0; q < submission.answers.size(); ++q) {
    const std::string& shown = submission.answers[q];
    experiments::SurveyAnswer answer;
    answer.item_id = a.item_id;
    answer.question = static_cast<int>(q);
    answer.shown = shown;
    if (shown == "A") {
      answer.choice = a.swapped ? "y" : "x";
    } else if (shown == "B") {
      answer.choice = a.swapped ? "x" : "y";
    } else if (shown == "neither") {
      answer.choice = "neither";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("answer ", q + 1, " must be A, B or neither, got '", shown.substr(0, 20), "'"));
    }
    answer.idempotency_key = submission.idempotency_key;
    answer.elapsed_ms = submission.elapsed_ms;
    answers.push_back(std::move(answer));
  }
  ASSIGN_OR_RETURN(const bool replayed, store.RecordSurveyAnswers(session.participant.id, answers));
  session.answered[a.item_id] = static_cast<int>(answers.size());
  session.UpdateNextPosition();
  return replayed;
}

}  // namespace dreamshot::survey

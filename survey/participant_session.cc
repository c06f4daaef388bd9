#include "survey/participant_session.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "survey/assignment.h"
#include "survey/participant_token.h"
#include "survey/survey_admin.h"
#include "survey/survey_status.h"

namespace dreamshot::survey {
namespace {

// The store refuses joins and answers to a survey that is not open inside
// its own transactions too; this check answers the reads (and says why).
absl::Status RequireOpen(const experiments::Survey& survey) {
  ASSIGN_OR_RETURN(const SurveyStatus status, StatusOf(survey));
  if (status == SurveyStatus::kOpen) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("survey '", survey.name, "' is ", SurveyStatusName(status)));
}

// The seeded, balanced assignment of the participant with sequence number
// `seq`, given how often each item has been shown so far.
absl::StatusOr<std::vector<experiments::SurveyAssignment>> Assign(const std::vector<PoolPair>& pool,
                                                                  const std::vector<PoolPair>& attention,
                                                                  const SurveyConfig& config, int64_t seq,
                                                                  const std::map<int64_t, int64_t>& counts) {
  AssignmentOptions options;
  options.pairs_per_participant = config.pairs_per_participant;
  options.attention_checks = attention.empty() ? 0 : config.attention_checks;
  options.seed = config.seed;
  ASSIGN_OR_RETURN(std::vector<AssignedItem> assigned, AssignPairs(pool, attention, counts, seq, options));
  std::vector<experiments::SurveyAssignment> out;
  for (size_t i = 0; i < assigned.size(); ++i) {
    out.push_back({static_cast<int64_t>(i), assigned[i].pair_id, assigned[i].swapped});
  }
  return out;
}

// The system an answer as shown ("A" = left) means: "x", "y" or "neither".
absl::StatusOr<std::string> ChoiceOf(const std::string& shown, bool swapped, size_t question) {
  if (shown == "A") return std::string(swapped ? "y" : "x");
  if (shown == "B") return std::string(swapped ? "x" : "y");
  if (shown == "neither") return shown;
  return absl::InvalidArgumentError(
      absl::StrCat("answer ", question + 1, " must be A, B or neither, got '", shown.substr(0, 20), "'"));
}

absl::Status NotAssigned(int64_t position) {
  return absl::NotFoundError(absl::StrCat("pair ", position, " is not assigned to this participant"));
}

}  // namespace

absl::StatusOr<SurveyConfig> Invitation(experiments::SurveyStore& store, const std::string& survey_name) {
  ASSIGN_OR_RETURN(const experiments::Survey survey, FindSurveyByName(store, survey_name));
  RETURN_IF_ERROR(RequireOpen(survey));
  return SurveyConfigFromJson(survey.config_json);
}

absl::StatusOr<std::string> ParticipantSession::Join(experiments::SurveyStore& store, const std::string& survey_name) {
  ASSIGN_OR_RETURN(const experiments::Survey survey, FindSurveyByName(store, survey_name));
  RETURN_IF_ERROR(RequireOpen(survey));
  ASSIGN_OR_RETURN(const SurveyConfig config, SurveyConfigFromJson(survey.config_json));
  ASSIGN_OR_RETURN(const std::vector<experiments::SurveyItem> items, store.ListSurveyItems(survey.id));
  std::vector<PoolPair> pool, attention;
  for (const auto& item : items) (item.attention.empty() ? pool : attention).push_back({item.id, item.shot_type});
  const std::string token = NewParticipantToken();
  // The store numbers the participant and counts what was shown inside the
  // transaction that adds it, so concurrent joins keep coverage even.
  RETURN_IF_ERROR(store
                      .AddSurveyParticipant(survey.id, TokenHash(token),
                                            [&](int64_t seq, const std::map<int64_t, int64_t>& counts) {
                                              return Assign(pool, attention, config, seq, counts);
                                            })
                      .status());
  return token;
}

absl::StatusOr<ParticipantSession> ParticipantSession::Resume(experiments::SurveyStore& store,
                                                              const std::string& survey_name,
                                                              const std::string& token) {
  if (!WellFormedToken(token)) return absl::UnauthenticatedError("malformed participant token");
  // Every participant request comes through here: one read transaction
  // with the participant's own items only, not the survey's whole pool.
  absl::StatusOr<experiments::SurveyParticipantSnapshot> snapshot =
      store.GetSurveyParticipantSnapshot(TokenHash(token));
  if (snapshot.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError("unknown participant token");
  }
  if (!snapshot.ok()) return snapshot.status();
  // Before the survey's state: another survey's token says nothing here.
  if (snapshot->survey.name != survey_name) return absl::UnauthenticatedError("this token is for another survey");
  RETURN_IF_ERROR(RequireOpen(snapshot->survey));
  ParticipantSession s(store);
  ASSIGN_OR_RETURN(s.config_, SurveyConfigFromJson(snapshot->survey.config_json));
  s.participant_id_ = snapshot->participant.id;
  s.consented_ = snapshot->participant.consented_ms.has_value();
  s.assignments_.reserve(snapshot->assigned.size());
  for (auto& a : snapshot->assigned) {
    s.assignments_.push_back(a.assignment);
    if (a.answered > 0) s.answered_[a.item.id] = a.answered;
    s.items_.emplace(a.item.id, std::move(a.item));
  }
  s.UpdateNextPosition();
  return s;
}

absl::Status ParticipantSession::Consent() {
  RETURN_IF_ERROR(store_->MarkSurveyConsent(participant_id_));
  consented_ = true;
  return absl::OkStatus();
}

absl::Status ParticipantSession::RequireConsent() const {
  if (!consented_) return absl::PermissionDeniedError("give your consent first");
  return absl::OkStatus();
}

absl::StatusOr<ShownPair> ParticipantSession::Pair(int64_t position) const {
  RETURN_IF_ERROR(RequireConsent());
  if (!IsAssigned(position)) return NotAssigned(position);
  const experiments::SurveyAssignment& a = assignments_[position];
  const experiments::SurveyItem& item = items_.at(a.item_id);
  ShownPair shown;
  shown.position = position;
  shown.total = total();
  shown.prompt = item.prompt;
  shown.shot_type = item.shot_type;
  shown.artifact_a = a.swapped ? item.artifact_y : item.artifact_x;
  shown.artifact_b = a.swapped ? item.artifact_x : item.artifact_y;
  return shown;
}

absl::StatusOr<bool> ParticipantSession::Answer(const Submission& submission) {
  RETURN_IF_ERROR(RequireConsent());
  if (!IsAssigned(submission.position)) return NotAssigned(submission.position);
  if (submission.answers.size() != config_.questions.size()) {
    return absl::InvalidArgumentError(absl::StrCat("give one answer per question: ", config_.questions.size(),
                                                   " expected, ", submission.answers.size(), " given"));
  }
  if (submission.elapsed_ms < 0) return absl::InvalidArgumentError("elapsed_ms must not be negative");
  const experiments::SurveyAssignment& a = assignments_[submission.position];
  std::vector<experiments::SurveyAnswer> answers;
  for (size_t q = 0; q < submission.answers.size(); ++q) {
    experiments::SurveyAnswer answer;
    answer.item_id = a.item_id;
    answer.question = static_cast<int>(q);
    answer.shown = submission.answers[q];
    ASSIGN_OR_RETURN(answer.choice, ChoiceOf(answer.shown, a.swapped, q));
    answer.idempotency_key = submission.idempotency_key;
    answer.elapsed_ms = submission.elapsed_ms;
    answers.push_back(std::move(answer));
  }
  ASSIGN_OR_RETURN(const bool replayed, store_->RecordSurveyAnswers(participant_id_, answers));
  answered_[a.item_id] = static_cast<int>(answers.size());
  UpdateNextPosition();
  return replayed;
}

void ParticipantSession::UpdateNextPosition() {
  next_position_ = total();
  for (const auto& a : assignments_) {
    if (!answered_.count(a.item_id)) {
      next_position_ = a.position;
      break;
    }
  }
}

}  // namespace dreamshot::survey

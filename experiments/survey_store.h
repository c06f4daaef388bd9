// Pairwise A/B surveys: the survey and its item snapshots, participants with
// their assignments, and answers. Each survey is also a run (kind "survey")
// of the run store, whose status its own follows.
#ifndef DREAMSHOT_EXPERIMENTS_SURVEY_STORE_H_
#define DREAMSHOT_EXPERIMENTS_SURVEY_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/survey_types.h"

namespace dreamshot::experiments {

class ChangeSignal;
class Database;

class SurveyStore {
 public:
  // `db` and `run_changes` outlive the SurveyStore: the ExperimentStore's
  // database() and changes(). A survey's status (which moves its run), new
  // participants and answers bump `run_changes`, waking the run store's
  // watchers.
  SurveyStore(Database* db, ChangeSignal* run_changes) : db_(db), run_changes_(run_changes) {}

  // Surveys and their items (survey_store.cc). A survey and its items are
  // created together. ALREADY_EXISTS for a taken name; NOT_FOUND for a
  // missing run or artifact.
  absl::StatusOr<Survey> CreateSurvey(const Survey& survey, const std::vector<SurveyItem>& items);
  absl::StatusOr<Survey> GetSurvey(int64_t id);
  absl::StatusOr<Survey> GetSurveyByName(const std::string& name);
  absl::StatusOr<std::vector<Survey>> ListSurveys();
  // draft → open ⇄ closed; FAILED_PRECONDITION otherwise. The survey's run
  // follows in the same transaction: running while open, finished once
  // closed.
  absl::StatusOr<Survey> SetSurveyStatus(int64_t id, const std::string& status);
  absl::StatusOr<std::vector<SurveyItem>> ListSurveyItems(int64_t survey_id);
  // Item id → participants it was assigned to (never-assigned items absent).
  absl::StatusOr<std::map<int64_t, int64_t>> SurveyShownCounts(int64_t survey_id);

  // Participants, their assignments and answers (survey_participants.cc).
  // Adds a participant (next arrival number) and its assignment in one
  // write transaction: `assign` gets the arrival number and how often each
  // item was assigned so far, so concurrent arrivals keep coverage even.
  // FAILED_PRECONDITION unless the survey is open; ALREADY_EXISTS for a
  // token hash in use.
  using AssignFn = std::function<absl::StatusOr<std::vector<SurveyAssignment>>(
      int64_t seq, const std::map<int64_t, int64_t>& assigned_counts)>;
  absl::StatusOr<SurveyParticipant> AddSurveyParticipant(int64_t survey_id, const std::string& token_hash,
                                                         const AssignFn& assign);
  // NOT_FOUND for an unknown hash.
  absl::StatusOr<SurveyParticipant> FindSurveyParticipant(const std::string& token_hash);
  absl::StatusOr<std::vector<SurveyParticipant>> ListSurveyParticipants(int64_t survey_id);
  absl::StatusOr<std::vector<SurveyAssignment>> ListSurveyAssignments(int64_t participant_id);
  absl::Status MarkSurveyConsent(int64_t participant_id);
  // Stores one item's answers together. A replay (same idempotency key,
  // same answers) stores nothing and returns true; answers already given
  // differently are ALREADY_EXISTS; an item not assigned to the participant
  // is NOT_FOUND; FAILED_PRECONDITION unless the survey is open. The
  // participant is marked finished with its last item.
  absl::StatusOr<bool> RecordSurveyAnswers(int64_t participant_id, const std::vector<SurveyAnswer>& answers);
  // Every answer of the survey, by participant, then item, then question.
  absl::StatusOr<std::vector<SurveyAnswer>> ListSurveyAnswers(int64_t survey_id);
  // Everything a participant's page needs, for the participant with this
  // token hash: one read transaction, two queries, and only the items
  // assigned to it (never the survey's whole pool). Every request of the
  // participant API reads this. NOT_FOUND for an unknown hash.
  absl::StatusOr<SurveyParticipantSnapshot> GetSurveyParticipantSnapshot(const std::string& token_hash);

 private:
  Database* db_;
  ChangeSignal* run_changes_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_SURVEY_STORE_H_

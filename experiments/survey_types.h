// Types of the survey store (experiments/survey_store.h).
#ifndef DREAMSHOT_EXPERIMENTS_SURVEY_TYPES_H_
#define DREAMSHOT_EXPERIMENTS_SURVEY_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dreamshot::experiments {

// A pairwise A/B survey. Its config (questions, options, pairs per
// participant, seed, consent text) is JSON the store does not interpret.
struct Survey {
  int64_t id = 0;
  int64_t run_id = 0;  // the survey's run (kind "survey")
  std::string name;
  std::string status = "draft";  // draft | open | closed
  std::string config_json = "{}";
  int64_t created_ms = 0;
  std::optional<int64_t> opened_ms, closed_ms;
};

// One thing a participant judges: a snapshot of an image pair (system x is
// the pair's side a), or an attention check, whose `attention` holds the
// expected choice ("neither" for two identical images).
struct SurveyItem {
  int64_t id = 0;
  int64_t survey_id = 0;
  std::optional<int64_t> pair_id;
  std::string attention;  // "" for a real pair
  std::string prompt, shot_type;
  std::string label_x, label_y;
  int64_t artifact_x = 0, artifact_y = 0;
};

struct SurveyParticipant {
  int64_t id = 0;
  int64_t survey_id = 0;
  int64_t seq = 0;         // arrival order from 0 (the assignment's participant index)
  std::string token_hash;  // SHA-256 hex of the participant's token
  int64_t created_ms = 0;
  std::optional<int64_t> consented_ms, finished_ms;
};

struct SurveyAssignment {
  int64_t position = 0;  // 0-based order shown
  int64_t item_id = 0;
  bool swapped = false;  // true: system y is shown as A
};

struct SurveyAnswer {
  int64_t id = 0;
  int64_t participant_id = 0;
  int64_t item_id = 0;
  int question = 0;
  std::string shown;   // "A" | "B" | "neither": what was clicked
  std::string choice;  // "x" | "y" | "neither": the system it means
  std::string idempotency_key;
  int64_t elapsed_ms = 0;
  int64_t created_ms = 0;
};

// A participant of a survey as its page sees it, read in one snapshot.
struct SurveyParticipantSnapshot {
  struct Assigned {
    SurveyAssignment assignment;
    SurveyItem item;
    int answered = 0;  // questions of the item answered so far
  };
  SurveyParticipant participant;
  Survey survey;
  std::vector<Assigned> assigned;  // by position
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_SURVEY_TYPES_H_

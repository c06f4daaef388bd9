// A survey's results: per question (and per shot type) the share of answers
// for each system and for "neither", with intervals that respect that one
// participant's answers are correlated; sign tests; agreement between
// participants; Bradley–Terry strengths when more than two systems meet;
// attention-check failures and time per pair.
//
// ComputeResults is pure (a function of the answers and the options, bit for
// bit), so a results table can always be recomputed from the stored answers
// or from the CSV export. LoadSurveyResults reads its input from the store.
#ifndef DREAMSHOT_SURVEY_RESULTS_H_
#define DREAMSHOT_SURVEY_RESULTS_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/survey_store.h"
#include "survey/statistics.h"

namespace dreamshot::survey {

struct ResultsOptions {
  int resamples = 2000;  // bootstrap replicates
  uint64_t seed = 1;     // of the bootstrap
  double level = 0.95;   // of every interval (bootstrap and Wilson)
  // Participants who failed more attention checks than this are left out of
  // every estimate (and listed in the report). A check is failed when any of
  // its answers differs from the expected one.
  int max_attention_failures = 0;
  // Leave out participants who did not answer every assigned pair. Off by
  // default: answers are stored as they are given and each one is a real
  // judgement; on, the estimates use complete response sets only.
  bool finished_only = false;
};

// ---- Input: what was asked and answered ----

struct RatedItem {
  int64_t id = 0;
  std::string label_x, label_y;  // the systems on the pair's sides
  std::string shot_type;
  std::string attention;  // expected choice for an attention check; "" for a real pair
};

struct RatedAnswer {
  int64_t participant = 0;  // arrival number (never the token)
  int64_t item_id = 0;
  int question = 0;        // index into ResultsInput::question_keys
  std::string choice;      // "x" | "y" | "neither"
  int64_t elapsed_ms = 0;  // time on the pair, as the page measured it
};

struct ResultsInput {
  std::vector<std::string> question_keys;
  std::vector<RatedItem> items;
  std::vector<RatedAnswer> answers;
  int64_t participants_joined = 0;
  std::set<int64_t> finished;  // participants who answered every assigned pair
};

// ---- Output ----

struct ShareEstimate {
  int64_t count = 0;
  double share = 0.0;    // count / answers
  Proportion bootstrap;  // percentile bootstrap over participants
  Proportion wilson;     // per answer (too narrow when answers cluster)
};

// One line of the table: a question, a shot type ("" = all), a pair of
// systems.
struct ShareRow {
  std::string question;
  std::string shot_type;
  std::string system_x, system_y;
  int64_t answers = 0, participants = 0;
  ShareEstimate x, y, neither;
  // Two-sided exact sign test of x against y, "neither" left out: over
  // answers (as the method asks; treats answers as independent), and
  // over participants (each one's majority; ties left out), which does not.
  double sign_test_p = 1.0;
  int64_t participants_prefer_x = 0, participants_prefer_y = 0;
  double participant_sign_test_p = 1.0;
};

// Fleiss' kappa over the real pairs that at least two included participants
// answered, per question; kappa is empty (with the reason in `note`) when it
// is undefined.
struct Agreement {
  std::string question;
  int64_t items = 0, ratings = 0;
  std::optional<double> kappa;
  std::string note;
};

struct SystemStrength {
  std::string system;
  double strength = 0.0;    // Bradley–Terry π, geometric mean 1
  int64_t comparisons = 0;  // answers involving the system
};

// Only when more than two systems are compared; ties count half a win for
// each side. Systems strongest first; empty with a note when the fit fails.
struct Ranking {
  std::string question;
  std::vector<SystemStrength> systems;
  std::string note;
};

struct AttentionReport {
  int64_t participant = 0;
  int64_t checks = 0;  // attention items answered
  int64_t failed = 0;
  bool excluded = false;
};

struct SurveyResults {
  ResultsOptions options;
  std::vector<std::string> question_keys;
  int64_t participants_joined = 0;
  int64_t participants_answered = 0;  // at least one answer
  int64_t participants_included = 0;
  int64_t excluded_attention = 0;
  int64_t excluded_unfinished = 0;         // with options.finished_only
  std::vector<AttentionReport> attention;  // every participant who answered a check
  std::vector<ShareRow> rows;              // per question: all shot types, then each
  std::vector<Agreement> agreement;
  std::vector<Ranking> rankings;
  double median_seconds_per_pair = 0.0;  // real pairs of included participants
  int64_t timed_pairs = 0;
};

// INVALID_ARGUMENT for bad options (resamples < 1, level outside (0, 1),
// max_attention_failures < 0) or an answer naming an unknown item, question
// or choice (the store guarantees neither happens; a hand-made input may).
absl::StatusOr<SurveyResults> ComputeResults(const ResultsInput& input, const ResultsOptions& options);

absl::StatusOr<ResultsInput> LoadResultsInput(experiments::SurveyStore& store, int64_t survey_id);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_RESULTS_H_

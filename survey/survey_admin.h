// The researcher's side of a survey: create it from stored A/B pairs (each
// survey is also a run, kind "survey", in the experiment store), and watch
// open and close it, and watch its progress.
#ifndef DREAMSHOT_SURVEY_SURVEY_ADMIN_H_
#define DREAMSHOT_SURVEY_SURVEY_ADMIN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/artifact_blobs.h"
#include "experiments/stores.h"
#include "experiments/survey_store.h"
#include "survey/survey_config.h"
#include "survey/survey_status.h"

namespace dreamshot::survey {

struct NewSurvey {
  std::string name;
  std::string experiment = "surveys";  // where its run goes (created if missing)
  std::vector<int64_t> pair_runs;      // every image pair of these runs...
  std::vector<int64_t> pair_ids;       // ...and these pairs
  SurveyConfig config;
  // When config.pairs_per_participant exceeds the pairs in the pool: false
  // refuses (INVALID_ARGUMENT naming both numbers), true stores and uses the
  // pool's size instead. The service sets it when the request left the
  // number unset (the default 36 adapts to a small pool) or asked for it.
  bool allow_fewer_pairs = false;
  // Where broken-image attention checks store their pictures (as artifacts
  // of the survey's run); needed only for attention_style broken or both.
  experiments::ArtifactBlobs* blobs = nullptr;
};

// Snapshots the pairs as items (system x = a pair's side a), adds
// config.attention_checks × 3 attention items made from pairs spread over
// the pool (identical: one image on both sides, expected "neither"; broken:
// an image against BreakImage of it, expected the intact side "x"), and
// leaves the survey a draft. The stored config holds the number of pairs
// each participant actually gets. INVALID_ARGUMENT for a bad name (see
// ValidateSurveyName), a bad config, no pairs or too few of them;
// ALREADY_EXISTS for a taken name; NOT_FOUND for a missing run or pair.
// Uses stores.runs (the survey's run), .pairs, .artifacts and .surveys.
absl::StatusOr<experiments::Survey> CreateSurvey(const experiments::Stores& stores, const NewSurvey& request);

// Opens a draft or closed survey, or closes an open one (its run follows:
// running while open, finished once closed); setting the state it has
// changes nothing. INVALID_ARGUMENT for kDraft (a survey never returns to
// draft), FAILED_PRECONDITION for closing a draft, NOT_FOUND for no survey.
absl::StatusOr<experiments::Survey> ChangeSurveyStatus(experiments::SurveyStore& store, int64_t survey_id,
                                                       SurveyStatus to);

struct SurveyProgress {
  experiments::Survey survey;
  int64_t items = 0, attention_items = 0;
  std::map<std::string, int64_t> items_by_shot_type;
  int64_t participants = 0, consented = 0, finished = 0;
  int64_t answered_items = 0;            // (participant, item) pairs answered
  int64_t min_shown = 0, max_shown = 0;  // assignments per real item
};

absl::StatusOr<SurveyProgress> GetSurveyProgress(experiments::SurveyStore& store, int64_t survey_id);

// A survey name is part of its participant URL (/s/NAME): 1 to 100 letters,
// digits, '-', '_' and '.', and never all digits, so that a number always
// means an id to the admin lookups and a name never does. INVALID_ARGUMENT
// naming the rule otherwise.
absl::Status ValidateSurveyName(const std::string& name);

// The admin lookup (SurveyService, behind the admin token): an all-digit
// `name_or_id` is an id, anything else a name. Names are never all digits
// (ValidateSurveyName); a survey given a numeric name before that rule is
// reached here by its id.
absl::StatusOr<experiments::Survey> FindSurvey(experiments::SurveyStore& store, const std::string& name_or_id);

// The participant pages' lookup: by name only, never by id, so /s/2 is the
// survey named "2" (if one was created before names had to hold a
// non-digit) and not the survey with id 2. NOT_FOUND otherwise.
absl::StatusOr<experiments::Survey> FindSurveyByName(experiments::SurveyStore& store, const std::string& name);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_SURVEY_ADMIN_H_

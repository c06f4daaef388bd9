// A survey's state as a type: a draft takes nobody, an open survey takes
// participants and answers, a closed one takes neither (its results stay).
// The store keeps the words "draft", "open" and "closed" (its schema admits
// no other); survey/ and services/ compare these values, never the words.
#ifndef DREAMSHOT_SURVEY_SURVEY_STATUS_H_
#define DREAMSHOT_SURVEY_SURVEY_STATUS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/survey_types.h"

namespace dreamshot::survey {

enum class SurveyStatus { kDraft, kOpen, kClosed };

// "draft", "open" or "closed", as stored.
const char* SurveyStatusName(SurveyStatus status);
// INVALID_ARGUMENT for any other word.
absl::StatusOr<SurveyStatus> ParseSurveyStatus(absl::string_view name);
// The state of a survey read from the store; INTERNAL for a word the
// schema should have refused (a hand-edited database).
absl::StatusOr<SurveyStatus> StatusOf(const experiments::Survey& survey);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_SURVEY_STATUS_H_

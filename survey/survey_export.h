// Raw answers as CSV, one row per answer, with everything needed to redo
// the analysis elsewhere: participant (arrival number, never the token),
// position shown, the item and its pair, whether sides were swapped, what
// was clicked and the system it means.
#ifndef DREAMSHOT_SURVEY_SURVEY_EXPORT_H_
#define DREAMSHOT_SURVEY_SURVEY_EXPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "experiments/survey_store.h"

namespace dreamshot::survey {

struct AnswersCsv {
  std::string text;
  int64_t rows = 0;
};

absl::StatusOr<AnswersCsv> ExportAnswersCsv(experiments::SurveyStore& store, int64_t survey_id);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_SURVEY_EXPORT_H_

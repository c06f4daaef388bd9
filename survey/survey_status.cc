#include "survey/survey_status.h"

#include "absl/strings/str_cat.h"

namespace dreamshot::survey {

const char* SurveyStatusName(SurveyStatus status) {
  switch (status) {
    case SurveyStatus::kDraft:
      return "draft";
    case SurveyStatus::kOpen:
      return "open";
    case SurveyStatus::kClosed:
      return "closed";
  }
  return "draft";  // unreachable: the switch names every value
}

absl::StatusOr<SurveyStatus> ParseSurveyStatus(absl::string_view name) {
  for (SurveyStatus s : {SurveyStatus::kDraft, SurveyStatus::kOpen, SurveyStatus::kClosed}) {
    if (name == SurveyStatusName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrCat("a survey is draft, open or closed, not '", name.substr(0, 20), "'"));
}

absl::StatusOr<SurveyStatus> StatusOf(const experiments::Survey& survey) {
  absl::StatusOr<SurveyStatus> status = ParseSurveyStatus(survey.status);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("survey '", survey.name, "' has an unknown status: ", status.status().message()));
  }
  return status;
}

}  // namespace dreamshot::survey

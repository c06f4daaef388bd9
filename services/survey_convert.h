// Proto <-> domain conversion for SurveyService and the participant page.
#ifndef DREAMSHOT_SERVICES_SURVEY_CONVERT_H_
#define DREAMSHOT_SERVICES_SURVEY_CONVERT_H_

#include "absl/status/statusor.h"
#include "dreamshot/v1/survey.pb.h"
#include "experiments/survey_types.h"
#include "survey/participant_session.h"
#include "survey/results.h"
#include "survey/survey_admin.h"
#include "survey/survey_config.h"

namespace dreamshot::services {

// Unset fields keep the domain defaults.
survey::SurveyConfig FromProto(const v1::SurveyConfig& config);
void ToProto(const survey::SurveyConfig& config, v1::SurveyConfig* out);
// The config is parsed from the survey's stored JSON (left default if it
// does not parse: a hand-edited store must not break listing).
void ToProto(const experiments::Survey& survey, v1::Survey* out);
void ToProto(const survey::SurveyProgress& progress, v1::SurveyStatus* out);
// The participant page's view: what a survey asks (before joining, with
// no progress), and a participant's progress with it.
void ToProto(const survey::SurveyConfig& config, v1::ParticipantSession* out);
void ToProto(const survey::ParticipantSession& session, v1::ParticipantSession* out);
// Unset fields take ResultsOptions' defaults; INVALID_ARGUMENT for
// resamples outside [0, 100000] (a request must not buy minutes of CPU) or a
// level outside [0, 1).
absl::StatusOr<survey::ResultsOptions> FromProto(const v1::SurveyResultsRequest& request);
void ToProto(const survey::SurveyResults& results, v1::SurveyResults* out);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_CONVERT_H_

// Proto <-> domain conversion for SurveyService and the participant page.
#ifndef DREAMSHOT_SERVICES_SURVEY_CONVERT_H_
#define DREAMSHOT_SERVICES_SURVEY_CONVERT_H_

#include "dreamshot/v1/survey.pb.h"
#include "experiments/types.h"
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

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_CONVERT_H_

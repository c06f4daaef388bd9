// A survey's results as a Markdown or an HTML document: a table per pair of
// systems (rows: question × shot type; columns: each system's share, the
// share of "neither", the sign tests), then agreement, Bradley–Terry
// strengths, attention checks and time per pair. Shares are percentages
// with the participant bootstrap interval in parentheses and the Wilson
// interval in brackets.
#ifndef DREAMSHOT_SURVEY_RESULTS_FORMAT_H_
#define DREAMSHOT_SURVEY_RESULTS_FORMAT_H_

#include <string>

#include "survey/results.h"
#include "survey/survey_status.h"

namespace dreamshot::survey {

struct ResultsHeading {
  std::string survey;  // name
  SurveyStatus status = SurveyStatus::kDraft;
};

std::string ResultsMarkdown(const ResultsHeading& heading, const SurveyResults& results);
// A complete, self-contained page (inline style); every text is escaped.
std::string ResultsHtml(const ResultsHeading& heading, const SurveyResults& results);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_RESULTS_FORMAT_H_

#include "survey/survey_export.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "core/csv.h"
#include "core/status_macros.h"
#include "survey/survey_config.h"

namespace dreamshot::survey {

absl::StatusOr<AnswersCsv> ExportAnswersCsv(experiments::SurveyStore& store, int64_t survey_id) {
  ASSIGN_OR_RETURN(experiments::Survey survey, store.GetSurvey(survey_id));
  ASSIGN_OR_RETURN(SurveyConfig config, SurveyConfigFromJson(survey.config_json));
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyItem> items, store.ListSurveyItems(survey_id));
  std::map<int64_t, experiments::SurveyItem> item_of;
  for (auto& i : items) item_of[i.id] = std::move(i);
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyParticipant> participants, store.ListSurveyParticipants(survey_id));
  std::map<int64_t, int64_t> seq_of;
  std::map<std::pair<int64_t, int64_t>, experiments::SurveyAssignment> assignment;  // (participant, item)
  for (const auto& p : participants) {
    seq_of[p.id] = p.seq;
    ASSIGN_OR_RETURN(std::vector<experiments::SurveyAssignment> assigned, store.ListSurveyAssignments(p.id));
    for (const auto& a : assigned) assignment[{p.id, a.item_id}] = a;
  }
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyAnswer> answers, store.ListSurveyAnswers(survey_id));
  AnswersCsv out;
  out.text =
      "participant,position,item,pair,attention_check,shot_type,prompt,question,shown,swapped,choice,system,"
      "system_x,system_y,elapsed_ms,answered_ms\n";
  for (const auto& a : answers) {
    const experiments::SurveyItem& item = item_of.at(a.item_id);
    const experiments::SurveyAssignment& shown = assignment.at({a.participant_id, a.item_id});
    const std::string question = a.question < static_cast<int>(config.questions.size())
                                     ? config.questions[a.question].key
                                     : absl::StrCat("q", a.question);
    const std::string system = a.choice == "x" ? item.label_x : a.choice == "y" ? item.label_y : "neither";
    std::vector<std::string> row = {absl::StrCat(seq_of.at(a.participant_id)),
                                    absl::StrCat(shown.position),
                                    absl::StrCat(item.id),
                                    item.pair_id ? absl::StrCat(*item.pair_id) : "",
                                    item.attention.empty() ? "0" : "1",
                                    item.shot_type,
                                    item.prompt,
                                    question,
                                    a.shown,
                                    shown.swapped ? "1" : "0",
                                    a.choice,
                                    system,
                                    item.label_x,
                                    item.label_y,
                                    absl::StrCat(a.elapsed_ms),
                                    absl::StrCat(a.created_ms)};
    out.text += core::CsvRow(row);
    ++out.rows;
  }
  return out;
}

}  // namespace dreamshot::survey

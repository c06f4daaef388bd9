#include "services/survey_convert.h"

#include "absl/strings/str_cat.h"

namespace dreamshot::services {

survey::SurveyConfig FromProto(const v1::SurveyConfig& c) {
  survey::SurveyConfig out;
  if (!c.title().empty()) out.title = c.title();
  if (!c.consent_text().empty()) out.consent_text = c.consent_text();
  if (c.questions_size() > 0) {
    out.questions.clear();
    for (const v1::SurveyQuestion& q : c.questions()) out.questions.push_back({q.key(), q.text()});
  }
  if (!c.option_a().empty()) out.option_a = c.option_a();
  if (!c.option_b().empty()) out.option_b = c.option_b();
  if (!c.option_neither().empty()) out.option_neither = c.option_neither();
  if (c.has_pairs_per_participant()) out.pairs_per_participant = c.pairs_per_participant();
  out.attention_checks = c.attention_checks();
  out.seed = c.seed();
  return out;
}

void ToProto(const survey::SurveyConfig& c, v1::SurveyConfig* out) {
  out->set_title(c.title);
  out->set_consent_text(c.consent_text);
  for (const survey::Question& q : c.questions) {
    v1::SurveyQuestion* question = out->add_questions();
    question->set_key(q.key);
    question->set_text(q.text);
  }
  out->set_option_a(c.option_a);
  out->set_option_b(c.option_b);
  out->set_option_neither(c.option_neither);
  out->set_pairs_per_participant(c.pairs_per_participant);
  out->set_attention_checks(c.attention_checks);
  out->set_seed(c.seed);
}

void ToProto(const experiments::Survey& s, v1::Survey* out) {
  out->set_id(s.id);
  out->set_run_id(s.run_id);
  out->set_name(s.name);
  out->set_status(s.status);
  absl::StatusOr<survey::SurveyConfig> config = survey::SurveyConfigFromJson(s.config_json);
  if (config.ok()) ToProto(*config, out->mutable_config());
  out->set_created_ms(s.created_ms);
  out->set_opened_ms(s.opened_ms.value_or(0));
  out->set_closed_ms(s.closed_ms.value_or(0));
  out->set_url_path(absl::StrCat("/s/", s.name));
}

void ToProto(const survey::SurveyProgress& p, v1::SurveyStatus* out) {
  ToProto(p.survey, out->mutable_survey());
  out->set_items(p.items);
  out->set_attention_items(p.attention_items);
  for (const auto& [type, n] : p.items_by_shot_type) (*out->mutable_items_by_shot_type())[type] = n;
  out->set_participants(p.participants);
  out->set_consented(p.consented);
  out->set_finished(p.finished);
  out->set_answered_pairs(p.answered_items);
  out->set_min_shown(p.min_shown);
  out->set_max_shown(p.max_shown);
}

}  // namespace dreamshot::services

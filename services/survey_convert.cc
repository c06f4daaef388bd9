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
  if (!c.attention_style().empty()) out.attention_style = c.attention_style();
  out.seed = c.seed();
  return out;
}

namespace {

// What participants read of a config: v1::SurveyConfig and
// v1::ParticipantSession name these fields alike.
template <typename Proto>
void SetWording(const survey::SurveyConfig& c, Proto* out) {
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
}

}  // namespace

void ToProto(const survey::SurveyConfig& c, v1::SurveyConfig* out) {
  SetWording(c, out);
  out->set_pairs_per_participant(c.pairs_per_participant);
  out->set_attention_checks(c.attention_checks);
  out->set_attention_style(c.attention_style);
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

void ToProto(const survey::SurveyConfig& c, v1::ParticipantSession* out) { SetWording(c, out); }

void ToProto(const survey::ParticipantSession& s, v1::ParticipantSession* out) {
  ToProto(s.config(), out);
  out->set_total(s.total());
  out->set_next_position(s.next_position());
  out->set_consented(s.consented());
  out->set_finished(s.finished());
}

absl::StatusOr<survey::ResultsOptions> FromProto(const v1::SurveyResultsRequest& r) {
  constexpr int kMaxResamples = 100000;
  survey::ResultsOptions out;
  if (r.resamples() < 0 || r.resamples() > kMaxResamples) {
    return absl::InvalidArgumentError(
        absl::StrCat("resamples must lie in [1, ", kMaxResamples, "] (0: the default), got ", r.resamples()));
  }
  if (r.resamples() > 0) out.resamples = r.resamples();
  if (r.has_seed()) out.seed = r.seed();
  if (!(r.level() >= 0.0 && r.level() < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("level must lie in (0, 1) (0: 0.95), got ", r.level()));
  }
  if (r.level() > 0.0) out.level = r.level();
  out.max_attention_failures = r.max_attention_failures();
  out.finished_only = r.finished_only();
  return out;
}

namespace {

void ToProto(const survey::Proportion& p, v1::Interval* out) {
  out->set_low(p.low);
  out->set_high(p.high);
}

void ToProto(const survey::ShareEstimate& e, v1::ShareEstimate* out) {
  out->set_count(e.count);
  out->set_share(e.share);
  ToProto(e.bootstrap, out->mutable_bootstrap());
  ToProto(e.wilson, out->mutable_wilson());
}

}  // namespace

void ToProto(const survey::SurveyResults& r, v1::SurveyResults* out) {
  out->set_resamples(r.options.resamples);
  out->set_seed(r.options.seed);
  out->set_level(r.options.level);
  out->set_max_attention_failures(r.options.max_attention_failures);
  out->set_finished_only(r.options.finished_only);
  out->set_participants_joined(r.participants_joined);
  out->set_participants_answered(r.participants_answered);
  out->set_participants_included(r.participants_included);
  out->set_excluded_attention(r.excluded_attention);
  out->set_excluded_unfinished(r.excluded_unfinished);
  for (const survey::ShareRow& row : r.rows) {
    v1::SurveyShareRow* o = out->add_rows();
    o->set_question(row.question);
    o->set_shot_type(row.shot_type);
    o->set_system_x(row.system_x);
    o->set_system_y(row.system_y);
    o->set_answers(row.answers);
    o->set_participants(row.participants);
    ToProto(row.x, o->mutable_x());
    ToProto(row.y, o->mutable_y());
    ToProto(row.neither, o->mutable_neither());
    o->set_sign_test_p(row.sign_test_p);
    o->set_participants_prefer_x(row.participants_prefer_x);
    o->set_participants_prefer_y(row.participants_prefer_y);
    o->set_participant_sign_test_p(row.participant_sign_test_p);
  }
  for (const survey::Agreement& a : r.agreement) {
    v1::SurveyAgreement* o = out->add_agreement();
    o->set_question(a.question);
    o->set_items(a.items);
    o->set_ratings(a.ratings);
    if (a.kappa) o->set_fleiss_kappa(*a.kappa);
    o->set_note(a.note);
  }
  for (const survey::Ranking& ranking : r.rankings) {
    v1::SurveyRanking* o = out->add_rankings();
    o->set_question(ranking.question);
    o->set_note(ranking.note);
    for (const survey::SystemStrength& s : ranking.systems) {
      v1::SystemStrength* strength = o->add_systems();
      strength->set_system(s.system);
      strength->set_strength(s.strength);
      strength->set_answers(s.comparisons);
    }
  }
  for (const survey::AttentionReport& a : r.attention) {
    v1::AttentionCheckReport* o = out->add_attention();
    o->set_participant(a.participant);
    o->set_checks(a.checks);
    o->set_failed(a.failed);
    o->set_excluded(a.excluded);
  }
  out->set_median_seconds_per_pair(r.median_seconds_per_pair);
  out->set_timed_pairs(r.timed_pairs);
}

}  // namespace dreamshot::services

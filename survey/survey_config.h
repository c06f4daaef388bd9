// What a survey asks and how much of it each participant sees. Stored as
// JSON with the survey (experiments::Survey::config_json) and in its run's
// config, so results can always be read against the exact questions asked.
#ifndef DREAMSHOT_SURVEY_SURVEY_CONFIG_H_
#define DREAMSHOT_SURVEY_SURVEY_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dreamshot::survey {

struct Question {
  std::string key;   // short id for results and exports: "preference", "shot_type", "prompt"
  std::string text;  // as shown
};

// The three questions of the DreamShot study.
std::vector<Question> DefaultQuestions();

struct SurveyConfig {
  std::string title = "Which picture is better?";
  std::string consent_text =
      "This study asks you to compare pairs of generated images. It takes about 10 minutes. Your answers are "
      "stored anonymously (no name, e-mail or IP address is kept). You may stop at any time.";
  std::vector<Question> questions = DefaultQuestions();
  std::string option_a = "A";
  std::string option_b = "B";
  std::string option_neither = "Neither / the same";
  int pairs_per_participant = 36;
  int attention_checks = 0;  // attention-check pairs mixed into each assignment
  // What they show: "identical" (one picture twice; right answer "neither"),
  // "broken" (a picture against an obviously broken copy of it, tiles
  // scrambled and inverted; right answer the intact one), or "both" (the
  // pool alternates, so participants meet either kind).
  std::string attention_style = "identical";
  uint64_t seed = 0;
};

// INVALID_ARGUMENT naming the field: 1–10 questions with unique non-empty
// keys (letters, digits, '_') and texts, option labels 1–40 characters,
// pairs_per_participant 1–1000, attention_checks 0–20, attention_style
// identical | broken | both, texts ≤ 4000.
absl::Status Validate(const SurveyConfig& config);

std::string ToJson(const SurveyConfig& config);
// Missing keys keep their defaults; INVALID_ARGUMENT for bad JSON or types.
absl::StatusOr<SurveyConfig> SurveyConfigFromJson(const std::string& json);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_SURVEY_CONFIG_H_

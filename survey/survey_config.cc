#include "survey/survey_config.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"

namespace dreamshot::survey {

using nlohmann::json;

std::vector<Question> DefaultQuestions() {
  return {{"preference", "Which picture do you like most?"},
          {"shot_type", "Which picture is closer to the associated shot type?"},
          {"prompt", "Which picture is closer to the associated prompt?"}};
}

absl::Status Validate(const SurveyConfig& c) {
  auto text = [](const std::string& value, const char* field, size_t max) -> absl::Status {
    if (value.size() > max)
      return absl::InvalidArgumentError(absl::StrCat(field, " has more than ", max, " characters"));
    return absl::OkStatus();
  };
  if (c.questions.empty() || c.questions.size() > 10) {
    return absl::InvalidArgumentError(absl::StrCat("give 1 to 10 questions, got ", c.questions.size()));
  }
  std::set<std::string> keys;
  for (size_t i = 0; i < c.questions.size(); ++i) {
    const Question& q = c.questions[i];
    if (q.key.empty() || q.key.size() > 40) {
      return absl::InvalidArgumentError(
          absl::StrCat("question ", i + 1, ": its key needs 1 to 40 characters, got ", q.key.size()));
    }
    if (q.text.empty() || q.text.size() > 1000) {
      return absl::InvalidArgumentError(absl::StrCat("question ", i + 1, " ('", q.key,
                                                     "'): its text needs 1 to 1000 characters, got ", q.text.size()));
    }
    for (char ch : q.key) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') {
        return absl::InvalidArgumentError(
            absl::StrCat("question key '", q.key, "' may hold letters, digits and '_' only"));
      }
    }
    if (!keys.insert(q.key).second) return absl::InvalidArgumentError(absl::StrCat("question key '", q.key, "' twice"));
  }
  for (const auto& [value, field] : {std::pair{&c.option_a, "option_a"}, std::pair{&c.option_b, "option_b"},
                                     std::pair{&c.option_neither, "option_neither"}}) {
    if (value->empty() || value->size() > 40) {
      return absl::InvalidArgumentError(absl::StrCat(field, " needs 1 to 40 characters"));
    }
  }
  if (auto s = text(c.title, "title", 200); !s.ok()) return s;
  if (auto s = text(c.consent_text, "consent_text", 4000); !s.ok()) return s;
  if (c.pairs_per_participant < 1 || c.pairs_per_participant > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("pairs_per_participant must be in [1, 1000], got ", c.pairs_per_participant));
  }
  if (c.attention_checks < 0 || c.attention_checks > 20) {
    return absl::InvalidArgumentError(absl::StrCat("attention_checks must be in [0, 20], got ", c.attention_checks));
  }
  if (c.attention_style != "identical" && c.attention_style != "broken" && c.attention_style != "both") {
    return absl::InvalidArgumentError(
        absl::StrCat("attention_style must be identical, broken or both, got '", c.attention_style, "'"));
  }
  return absl::OkStatus();
}

std::string ToJson(const SurveyConfig& c) {
  json questions = json::array();
  for (const Question& q : c.questions) questions.push_back({{"key", q.key}, {"text", q.text}});
  return json{{"title", c.title},
              {"consent_text", c.consent_text},
              {"questions", questions},
              {"option_a", c.option_a},
              {"option_b", c.option_b},
              {"option_neither", c.option_neither},
              {"pairs_per_participant", c.pairs_per_participant},
              {"attention_checks", c.attention_checks},
              {"attention_style", c.attention_style},
              {"seed", c.seed}}
      .dump();
}

absl::StatusOr<SurveyConfig> SurveyConfigFromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError("a survey config must be a JSON object");
  SurveyConfig c;
  try {
    c.title = j.value("title", c.title);
    c.consent_text = j.value("consent_text", c.consent_text);
    if (j.contains("questions")) {
      c.questions.clear();
      for (const json& q : j.at("questions")) {
        c.questions.push_back({q.at("key").get<std::string>(), q.at("text").get<std::string>()});
      }
    }
    c.option_a = j.value("option_a", c.option_a);
    c.option_b = j.value("option_b", c.option_b);
    c.option_neither = j.value("option_neither", c.option_neither);
    c.pairs_per_participant = j.value("pairs_per_participant", c.pairs_per_participant);
    c.attention_checks = j.value("attention_checks", c.attention_checks);
    c.attention_style = j.value("attention_style", c.attention_style);
    c.seed = j.value("seed", c.seed);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("survey config: ", e.what()));
  }
  return c;
}

}  // namespace dreamshot::survey

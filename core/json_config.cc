#include "core/json_config.h"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::core {

struct JsonConfig::Impl {
  nlohmann::json json;
};

namespace {

absl::Status KeyError(const std::string& source, absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, " ", what));
}

// Python's json module writes NaN, Infinity and -Infinity (diffusers configs
// hold e.g. "lambda_min_clipped": -Infinity). Strict JSON has no such
// tokens, so outside strings they become marker strings that Double() reads.
constexpr char kNonFinitePrefix[] = "\x01nonfinite:";       // as parsed
constexpr char kNonFinitePrefixJson[] = "\\u0001nonfinite:";  // as written into the JSON text

std::string ReplaceNonFiniteTokens(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      out += ch;
      if (ch == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
      out += ch;
      continue;
    }
    bool replaced = false;
    for (absl::string_view token : {"-Infinity", "Infinity", "NaN"}) {
      if (text.substr(i, token.size()) == token) {
        absl::StrAppend(&out, "\"", kNonFinitePrefixJson, token, "\"");
        i += token.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += ch;
  }
  return out;
}

// An integer that fits int64 (nlohmann keeps 2^63..2^64-1 as unsigned,
// which get<int64_t>() would wrap to a negative number).
bool IsInt64(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    return value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  }
  return value.is_number_integer();
}

}  // namespace

absl::StatusOr<JsonConfig> JsonConfig::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return FromString(buffer.str(), path);
}

absl::StatusOr<JsonConfig> JsonConfig::FromString(absl::string_view text, const std::string& source) {
  auto impl = std::make_shared<Impl>();
  const std::string strict = ReplaceNonFiniteTokens(text);
  impl->json = nlohmann::json::parse(strict, nullptr, /*allow_exceptions=*/false);
  if (impl->json.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not valid JSON"));
  }
  if (!impl->json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": expected a JSON object"));
  }
  return JsonConfig(std::move(impl), source);
}

bool JsonConfig::Has(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  return it != impl_->json.end() && !it->is_null();
}

#define DS_JSON_GETTER(Name, Type, check, what)                                           \
  absl::StatusOr<Type> JsonConfig::Name(absl::string_view key, std::optional<Type> fallback) \
      const {                                                                             \
    auto it = impl_->json.find(std::string(key));                                         \
    if (it == impl_->json.end() || it->is_null()) {                                       \
      if (fallback) return *fallback;                                                     \
      return KeyError(source_, key, "is required but missing");                           \
    }                                                                                     \
    if (!it->check()) return KeyError(source_, key, "must be " what);                     \
    return it->get<Type>();                                                               \
  }

DS_JSON_GETTER(Bool, bool, is_boolean, "true or false")
DS_JSON_GETTER(String, std::string, is_string, "a string")
#undef DS_JSON_GETTER

absl::StatusOr<int64_t> JsonConfig::Int(absl::string_view key, std::optional<int64_t> fallback) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) {
    if (fallback) return *fallback;
    return KeyError(source_, key, "is required but missing");
  }
  if (!IsInt64(*it)) return KeyError(source_, key, "must be an integer");
  return it->get<int64_t>();
}

absl::StatusOr<double> JsonConfig::Double(absl::string_view key, std::optional<double> fallback) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) {
    if (fallback) return *fallback;
    return KeyError(source_, key, "is required but missing");
  }
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (text == absl::StrCat(kNonFinitePrefix, "Infinity")) return std::numeric_limits<double>::infinity();
    if (text == absl::StrCat(kNonFinitePrefix, "-Infinity")) return -std::numeric_limits<double>::infinity();
    if (text == absl::StrCat(kNonFinitePrefix, "NaN")) return std::numeric_limits<double>::quiet_NaN();
  }
  if (!it->is_number()) return KeyError(source_, key, "must be a number");
  return it->get<double>();
}

absl::StatusOr<std::vector<int64_t>> JsonConfig::IntList(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) return KeyError(source_, key, "is required but missing");
  if (!it->is_array()) return KeyError(source_, key, "must be a list of integers");
  std::vector<int64_t> out;
  for (const auto& v : *it) {
    if (!IsInt64(v)) return KeyError(source_, key, "must be a list of integers");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

absl::StatusOr<std::vector<bool>> JsonConfig::BoolList(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) return KeyError(source_, key, "is required but missing");
  if (!it->is_array()) return KeyError(source_, key, "must be a list of booleans");
  std::vector<bool> out;
  for (const auto& v : *it) {
    if (!v.is_boolean()) return KeyError(source_, key, "must be a list of booleans");
    out.push_back(v.get<bool>());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> JsonConfig::StringList(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) return KeyError(source_, key, "is required but missing");
  if (!it->is_array()) return KeyError(source_, key, "must be a list of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return KeyError(source_, key, "must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

absl::StatusOr<JsonConfig> JsonConfig::Object(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) return KeyError(source_, key, "is required but missing");
  if (!it->is_object()) return KeyError(source_, key, "must be an object");
  auto impl = std::make_shared<Impl>();
  impl->json = *it;
  return JsonConfig(std::move(impl), absl::StrCat(source_, ": ", key));
}

absl::StatusOr<std::vector<JsonConfig>> JsonConfig::ObjectList(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  if (it == impl_->json.end() || it->is_null()) return KeyError(source_, key, "is required but missing");
  if (!it->is_array()) return KeyError(source_, key, "must be a list of objects");
  std::vector<JsonConfig> out;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_object()) return KeyError(source_, absl::StrCat(key, "[", i, "]"), "must be an object");
    auto impl = std::make_shared<Impl>();
    impl->json = (*it)[i];
    out.push_back(JsonConfig(std::move(impl), absl::StrCat(source_, ": ", key, "[", i, "]")));
  }
  return out;
}

absl::Status CheckIntRange(absl::string_view key, int64_t value, int64_t low, int64_t high) {
  if (value >= low && value <= high) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(key, " = ", value, " is outside [", low, ", ", high, "]"));
}

absl::Status CheckNumberRange(absl::string_view key, double value, double low, double high) {
  if (value >= low && value <= high) return absl::OkStatus();  // false for NaN
  return absl::InvalidArgumentError(absl::StrCat(key, " = ", value, " is outside [", low, ", ", high, "]"));
}

std::string JsonConfig::RawJson(absl::string_view key) const {
  auto it = impl_->json.find(std::string(key));
  return it == impl_->json.end() ? "" : it->dump();
}

}  // namespace dreamshot::core

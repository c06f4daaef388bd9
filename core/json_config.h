// Reading upstream config.json files (diffusers / transformers) into config
// structs: required keys are errors when missing, unknown keys are ignored,
// and every error names the file and the key. nlohmann::json stays in the .cc.
#ifndef DREAMSHOT_CORE_JSON_CONFIG_H_
#define DREAMSHOT_CORE_JSON_CONFIG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::core {

class JsonConfig {
 public:
  static absl::StatusOr<JsonConfig> FromFile(const std::string& path);
  // `source` names the text in errors (a file name, "inline config", ...).
  static absl::StatusOr<JsonConfig> FromString(absl::string_view text, const std::string& source);

  bool Has(absl::string_view key) const;  // present and not null
  // Without a fallback a missing key is INVALID_ARGUMENT; a value of the
  // wrong type is always INVALID_ARGUMENT (for Int and IntList also an
  // integer beyond int64, and a number written with an exponent or a
  // fraction: 1e12 is not an integer here, as it is not in Python's json).
  absl::StatusOr<int64_t> Int(absl::string_view key, std::optional<int64_t> fallback = {}) const;
  absl::StatusOr<double> Double(absl::string_view key, std::optional<double> fallback = {}) const;
  absl::StatusOr<bool> Bool(absl::string_view key, std::optional<bool> fallback = {}) const;
  absl::StatusOr<std::string> String(absl::string_view key,
                                     std::optional<std::string> fallback = {}) const;
  absl::StatusOr<std::vector<int64_t>> IntList(absl::string_view key) const;
  absl::StatusOr<std::vector<std::string>> StringList(absl::string_view key) const;
  absl::StatusOr<std::vector<bool>> BoolList(absl::string_view key) const;
  // A nested object as its own config (errors say "file: key.sub").
  absl::StatusOr<JsonConfig> Object(absl::string_view key) const;
  // A list of objects, each as its own config ("file: key[3]" in errors).
  absl::StatusOr<std::vector<JsonConfig>> ObjectList(absl::string_view key) const;
  // The value of `key` as compact JSON text ("" when absent), for reports.
  std::string RawJson(absl::string_view key) const;

  const std::string& source() const { return source_; }

 private:
  struct Impl;
  JsonConfig(std::shared_ptr<const Impl> impl, std::string source)
      : impl_(std::move(impl)), source_(std::move(source)) {}
  std::shared_ptr<const Impl> impl_;
  std::string source_;
};

// Range checks for config values, before any value sizes anything: the
// message names the key ("block_out_channels[1] = 0 is outside [1, 16384]");
// callers prefix the file. CheckNumberRange also refuses NaN.
absl::Status CheckIntRange(absl::string_view key, int64_t value, int64_t low, int64_t high);
absl::Status CheckNumberRange(absl::string_view key, double value, double low, double high);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_JSON_CONFIG_H_

#include "models/expected_tensors.h"

#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace dreamshot::models {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

int64_t SaturatingAdd(int64_t a, int64_t b) { return a > kInt64Max - b ? kInt64Max : a + b; }

int64_t Elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) return 0;
    if (n > kInt64Max / d) return kInt64Max;
    n *= d;
  }
  return n;
}

std::string ShapeText(const std::vector<int64_t>& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

// "block_out_channels[2], in_channels" → {"block_out_channels", "in_channels"}.
std::vector<std::string> KeyNames(const std::string& keys) {
  std::vector<std::string> names;
  for (absl::string_view key : absl::StrSplit(keys, ", ", absl::SkipEmpty())) {
    names.emplace_back(key.substr(0, key.find('[')));
  }
  return names;
}

// Whether the config sets `key`; "vision_config.hidden_size" looks inside
// the nested object.
bool ConfigHas(const core::JsonConfig& config, const std::string& key) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return config.Has(key);
  absl::StatusOr<core::JsonConfig> inner = config.Object(key.substr(0, dot));
  return inner.ok() && ConfigHas(*inner, key.substr(dot + 1));
}

}  // namespace

void ExpectedTensors::Add(const std::string& name, std::vector<int64_t> shape, const std::string& keys,
                          bool optional) {
  tensors_[name] = ExpectedTensor{std::move(shape), keys, optional};
}

void ExpectedTensors::Conv2d(const std::string& prefix, int64_t in, int64_t out, int64_t kernel,
                             const std::string& keys) {
  Add(prefix + ".weight", {out, in, kernel, kernel}, keys);
  Add(prefix + ".bias", {out}, keys);
}

void ExpectedTensors::Linear(const std::string& prefix, int64_t in, int64_t out, const std::string& keys,
                             bool bias) {
  Add(prefix + ".weight", {out, in}, keys);
  if (bias) Add(prefix + ".bias", {out}, keys);
}

void ExpectedTensors::Norm(const std::string& prefix, int64_t channels, const std::string& keys) {
  Add(prefix + ".weight", {channels}, keys);
  Add(prefix + ".bias", {channels}, keys);
}

int64_t ExpectedTensors::NumElements() const {
  int64_t total = 0;
  for (const auto& [name, t] : tensors_) total = SaturatingAdd(total, Elements(t.shape));
  return total;
}

absl::Status CheckModelSize(const ExpectedTensors& expected, const std::string& what) {
  const int64_t n = expected.NumElements();
  if (n <= kMaxModelElements) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("the config describes ", what, " with ", n,
                                                 " parameters, more than the limit of ", kMaxModelElements,
                                                 " (check block_out_channels and the layer counts)"));
}

absl::Status CheckWeightShapes(const ExpectedTensors& expected, const core::TensorShapes& actual,
                               const core::JsonConfig& config, const std::string& weights) {
  std::vector<std::string> mismatched, missing, unexpected;
  std::string first_mismatch, first_missing, first_unexpected;
  std::set<std::string> cited_keys;  // of the tensors the message shows
  for (const auto& [name, want] : expected.tensors()) {
    auto it = actual.find(name);
    if (it == actual.end()) {
      if (want.optional) continue;
      if (missing.empty()) {
        first_missing = absl::StrCat(name, " ", ShapeText(want.shape), " (from ", want.keys, ")");
        for (const std::string& k : KeyNames(want.keys)) cited_keys.insert(k);
      }
      missing.push_back(name);
    } else if (it->second != want.shape) {
      if (mismatched.empty()) {
        first_mismatch = absl::StrCat(name, " is ", ShapeText(it->second), " in the weights but the config gives ",
                                      ShapeText(want.shape), " (from ", want.keys, ")");
        for (const std::string& k : KeyNames(want.keys)) cited_keys.insert(k);
      }
      mismatched.push_back(name);
    }
  }
  int64_t actual_elements = 0;
  for (const auto& [name, shape] : actual) {
    actual_elements = SaturatingAdd(actual_elements, Elements(shape));
    if (expected.tensors().count(name) == 0) {
      if (unexpected.empty()) first_unexpected = absl::StrCat(name, " ", ShapeText(shape));
      unexpected.push_back(name);
    }
  }
  if (mismatched.empty() && missing.empty() && unexpected.empty()) return absl::OkStatus();

  std::vector<std::string> parts;
  if (!mismatched.empty()) {
    std::string part = first_mismatch;
    if (mismatched.size() > 1) absl::StrAppend(&part, "; ", mismatched.size() - 1, " more tensor(s) differ in shape");
    parts.push_back(std::move(part));
  }
  if (!missing.empty()) {
    parts.push_back(absl::StrCat("the weights lack ", missing.size(), " tensor(s) the config implies, e.g. ",
                                 first_missing));
  }
  if (!unexpected.empty()) {
    parts.push_back(absl::StrCat("the weights hold ", unexpected.size(),
                                 " tensor(s) the config does not imply, e.g. ", first_unexpected));
  }
  std::vector<std::string> defaulted;
  for (const std::string& key : cited_keys) {
    if (!ConfigHas(config, key)) defaulted.push_back(key);
  }
  std::string message = absl::StrCat(config.source(), " does not fit the weights in ", weights, " (the config implies ",
                                      expected.NumElements(), " parameters, the weights hold ", actual_elements,
                                      "): ", absl::StrJoin(parts, "; "));
  if (!defaulted.empty()) {
    absl::StrAppend(&message, "; the config leaves these to their defaults: ", absl::StrJoin(defaulted, ", "));
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace dreamshot::models

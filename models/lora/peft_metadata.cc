#include "models/lora/peft_metadata.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::models::lora {
namespace {

constexpr LoraComponent kComponents[] = {LoraComponent::kUNet, LoraComponent::kTextEncoder};

std::string Key(LoraComponent c, const char* field) { return absl::StrCat(ComponentName(c), ".", field); }

// The rank most modules have, which becomes the config's `r`; the others
// go into rank_pattern.
int64_t DominantRank(const LoraModuleMap& modules) {
  std::map<int64_t, int> count;
  for (const auto& [path, w] : modules) ++count[w.rank()];
  int64_t best = 0;
  int best_count = -1;
  for (const auto& [rank, n] : count) {
    if (n > best_count) best = rank, best_count = n;
  }
  return best;
}

}  // namespace

absl::StatusOr<PeftAlphas> PeftAlphas::FromMetadata(const std::map<std::string, std::string>& metadata) {
  PeftAlphas out;
  auto it = metadata.find(kPeftAdapterMetadataKey);
  if (it == metadata.end()) return out;
  const nlohmann::json json = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("metadata ", kPeftAdapterMetadataKey, " is not a JSON object"));
  }
  for (LoraComponent c : kComponents) {
    for (const char* unsupported : {"use_rslora", "use_dora"}) {
      auto flag = json.find(Key(c, unsupported));
      if (flag != json.end() && flag->is_boolean() && flag->get<bool>()) {
        return absl::InvalidArgumentError(absl::StrCat("metadata ", kPeftAdapterMetadataKey, ": ",
                                                       Key(c, unsupported), " = true is not supported"));
      }
    }
    ComponentAlphas alphas;
    auto alpha = json.find(Key(c, "lora_alpha"));
    if (alpha != json.end()) {
      if (!alpha->is_number()) {
        return absl::InvalidArgumentError(absl::StrCat("metadata ", kPeftAdapterMetadataKey, ": ",
                                                       Key(c, "lora_alpha"), " is not a number"));
      }
      alphas.lora_alpha = alpha->get<double>();
    }
    auto pattern = json.find(Key(c, "alpha_pattern"));
    if (pattern != json.end() && pattern->is_object()) {
      for (const auto& [name, value] : pattern->items()) {
        if (!value.is_number()) {
          return absl::InvalidArgumentError(absl::StrCat("metadata ", kPeftAdapterMetadataKey, ": ",
                                                         Key(c, "alpha_pattern"), "[", name, "] is not a number"));
        }
        alphas.pattern[name] = value.get<double>();
      }
    }
    out.alphas_[c] = std::move(alphas);
  }
  return out;
}

std::optional<double> PeftAlphas::AlphaOf(LoraComponent component, const std::string& module) const {
  auto it = alphas_.find(component);
  if (it == alphas_.end()) return std::nullopt;
  for (const auto& [name, alpha] : it->second.pattern) {
    if (module == name || absl::EndsWith(module, absl::StrCat(".", name))) return alpha;
  }
  return it->second.lora_alpha;
}

std::string PeftAdapterMetadataJson(const LoraWeights& weights) {
  nlohmann::json json = nlohmann::json::object();
  for (LoraComponent c : kComponents) {
    const LoraModuleMap& modules = weights.modules(c);
    if (modules.empty()) continue;
    const int64_t r = DominantRank(modules);
    nlohmann::json targets = nlohmann::json::array();
    nlohmann::json rank_pattern = nlohmann::json::object();
    nlohmann::json alpha_pattern = nlohmann::json::object();
    for (const auto& [path, w] : modules) {
      targets.push_back(path);
      if (w.rank() != r) {
        rank_pattern[path] = w.rank();
        alpha_pattern[path] = w.rank();  // alpha folded into up: alpha == rank
      }
    }
    json[Key(c, "r")] = r;
    json[Key(c, "lora_alpha")] = r;
    json[Key(c, "target_modules")] = targets;
    json[Key(c, "rank_pattern")] = rank_pattern;
    json[Key(c, "alpha_pattern")] = alpha_pattern;
  }
  // As diffusers: indent 2, sorted keys (nlohmann's object is sorted).
  return json.dump(2);
}

}  // namespace dreamshot::models::lora

#include "models/lora/lora_names.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace dreamshot::models::lora {
namespace {

// One row per (format, component): the module prefix and the suffixes of
// the down / up / alpha tensors. The first row of a (format, component) pair
// is what that format writes; later rows are further spellings it reads.
struct KeyScheme {
  LoraFileFormat format;
  LoraComponent component;
  const char* prefix;  // before the module name
  const char* down;    // after it
  const char* up;
  const char* alpha;   // nullptr: the format stores no alpha
};

constexpr KeyScheme kSchemes[] = {
    {LoraFileFormat::kPeft, LoraComponent::kUNet, "unet.", ".lora_A.weight", ".lora_B.weight", nullptr},
    {LoraFileFormat::kPeft, LoraComponent::kTextEncoder, "text_encoder.", ".lora_A.weight", ".lora_B.weight",
     nullptr},
    {LoraFileFormat::kDiffusersLegacy, LoraComponent::kUNet, "unet.", ".lora.down.weight", ".lora.up.weight",
     nullptr},
    {LoraFileFormat::kDiffusersLegacy, LoraComponent::kTextEncoder, "text_encoder.",
     ".lora_linear_layer.down.weight", ".lora_linear_layer.up.weight", nullptr},
    {LoraFileFormat::kDiffusersLegacy, LoraComponent::kTextEncoder, "text_encoder.", ".lora.down.weight",
     ".lora.up.weight", nullptr},
    {LoraFileFormat::kDiffusersLegacy, LoraComponent::kUNet, "unet.", ".lora_linear_layer.down.weight",
     ".lora_linear_layer.up.weight", nullptr},
    {LoraFileFormat::kKohya, LoraComponent::kUNet, "lora_unet_", ".lora_down.weight", ".lora_up.weight", ".alpha"},
    {LoraFileFormat::kKohya, LoraComponent::kTextEncoder, "lora_te_", ".lora_down.weight", ".lora_up.weight",
     ".alpha"},
};

const KeyScheme& WrittenScheme(LoraFileFormat format, LoraComponent component) {
  for (const KeyScheme& s : kSchemes) {
    if (s.format == format && s.component == component) return s;
  }
  return kSchemes[0];  // unreachable: every pair has a row
}

struct OwnedMetadataKey {
  LoraFileFormat format;
  const char* key;
  bool is_prefix;
};

constexpr OwnedMetadataKey kOwnedMetadata[] = {
    {LoraFileFormat::kKohya, "ss_network_", true},
    {LoraFileFormat::kKohya, "sshs_", true},  // hashes of the file: recomputed on every write
    {LoraFileFormat::kPeft, "format", false},
    {LoraFileFormat::kPeft, "lora_adapter_metadata", false},
    {LoraFileFormat::kDiffusersLegacy, "format", false},
};

}  // namespace

const char* FormatName(LoraFileFormat format) {
  switch (format) {
    case LoraFileFormat::kPeft:
      return "peft";
    case LoraFileFormat::kDiffusersLegacy:
      return "diffusers_legacy";
    case LoraFileFormat::kKohya:
      return "kohya";
  }
  return "?";
}

std::optional<ParsedLoraKey> ParseLoraKey(absl::string_view key) {
  for (const KeyScheme& s : kSchemes) {
    if (!absl::StartsWith(key, s.prefix)) continue;
    const std::pair<const char*, LoraTensorRole> suffixes[] = {
        {s.down, LoraTensorRole::kDown}, {s.up, LoraTensorRole::kUp}, {s.alpha, LoraTensorRole::kAlpha}};
    for (const auto& [suffix, role] : suffixes) {
      if (suffix == nullptr || !absl::EndsWith(key, suffix)) continue;
      const size_t prefix_len = std::char_traits<char>::length(s.prefix);
      const size_t suffix_len = std::char_traits<char>::length(suffix);
      if (key.size() <= prefix_len + suffix_len) continue;
      return ParsedLoraKey{s.format, s.component,
                           std::string(key.substr(prefix_len, key.size() - prefix_len - suffix_len)), role};
    }
  }
  return std::nullopt;
}

std::string LoraKey(LoraFileFormat format, LoraComponent component, const std::string& module,
                    LoraTensorRole role) {
  const KeyScheme& s = WrittenScheme(format, component);
  const std::string name = format == LoraFileFormat::kKohya ? KohyaModuleName(component, module)
                                                            : absl::StrCat(s.prefix, module);
  switch (role) {
    case LoraTensorRole::kDown:
      return absl::StrCat(name, s.down);
    case LoraTensorRole::kUp:
      return absl::StrCat(name, s.up);
    case LoraTensorRole::kAlpha:
      return absl::StrCat(name, s.alpha ? s.alpha : ".alpha");
  }
  return name;
}

std::string KohyaModuleName(LoraComponent component, const std::string& module) {
  return absl::StrCat(WrittenScheme(LoraFileFormat::kKohya, component).prefix,
                      absl::StrReplaceAll(module, {{".", "_"}}));
}

bool IsFormatOwnedMetadataKey(LoraFileFormat format, const std::string& key) {
  return std::any_of(std::begin(kOwnedMetadata), std::end(kOwnedMetadata), [&](const OwnedMetadataKey& k) {
    return k.format == format && (k.is_prefix ? absl::StartsWith(key, k.key) : key == k.key);
  });
}

absl::StatusOr<KohyaNameResolver> KohyaNameResolver::Build(const std::vector<std::string>& module_paths) {
  KohyaNameResolver resolver;
  for (const std::string& path : module_paths) {
    const std::string underscore = absl::StrReplaceAll(path, {{".", "_"}});
    auto [it, inserted] = resolver.by_underscore_name_.emplace(underscore, path);
    if (!inserted && it->second != path) {
      return absl::InvalidArgumentError(absl::StrCat("modules '", it->second, "' and '", path,
                                                     "' have the same kohya name '", underscore, "'"));
    }
  }
  return resolver;
}

std::optional<std::string> KohyaNameResolver::Resolve(const std::string& underscore_name) const {
  auto it = by_underscore_name_.find(underscore_name);
  if (it == by_underscore_name_.end()) return std::nullopt;
  return it->second;
}

}  // namespace dreamshot::models::lora

// The `lora_adapter_metadata` entry newer diffusers writes into a peft
// file's __metadata__: JSON of the LoraConfig per component, keys prefixed
// with the component ("unet.r", "unet.lora_alpha", "unet.alpha_pattern",
// "unet.target_modules"). Internal to lora_file.
#ifndef DREAMSHOT_MODELS_LORA_PEFT_METADATA_H_
#define DREAMSHOT_MODELS_LORA_PEFT_METADATA_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "models/lora/lora_weights.h"

namespace dreamshot::models::lora {

inline constexpr char kPeftAdapterMetadataKey[] = "lora_adapter_metadata";

// Per-module alphas the metadata declares.
class PeftAlphas {
 public:
  // nullopt-valued (no alphas) when the metadata has no adapter entry.
  // INVALID_ARGUMENT for malformed JSON or use_rslora / use_dora (other
  // scalings than alpha / rank), naming the key.
  static absl::StatusOr<PeftAlphas> FromMetadata(const std::map<std::string, std::string>& metadata);
  // The alpha of `module`: its alpha_pattern entry (a key equal to the path
  // or to a dotted suffix of it), else the component's lora_alpha.
  std::optional<double> AlphaOf(LoraComponent component, const std::string& module) const;

 private:
  struct ComponentAlphas {
    std::optional<double> lora_alpha;
    std::map<std::string, double> pattern;
  };
  std::map<LoraComponent, ComponentAlphas> alphas_;
};

// The JSON for kPeftAdapterMetadataKey describing `weights` written with
// alpha folded into up (so lora_alpha == r per module).
std::string PeftAdapterMetadataJson(const LoraWeights& weights);

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_PEFT_METADATA_H_

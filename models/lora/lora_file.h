// Reading and writing LoRA safetensors files in the three formats of
// lora_names.h, keeping the file's __metadata__.
//
// Alpha: kohya files store `.alpha` per module. diffusers/peft files store
// none (alpha == rank, as diffusers assumes), unless their metadata carries
// newer diffusers' `lora_adapter_metadata` JSON with `<component>.lora_alpha`
// (and per-module `<component>.alpha_pattern`), which is honoured.
// Writing peft or legacy files folds alpha / rank into `up`, so that every
// loader, old or new, computes the same ΔW; kohya files get `.alpha`.
#ifndef DREAMSHOT_MODELS_LORA_LORA_FILE_H_
#define DREAMSHOT_MODELS_LORA_LORA_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_names.h"
#include "models/lora/lora_weights.h"

namespace dreamshot::models::lora {

// The networks a file's keys are resolved and checked against; a component
// left null makes any key for it an error.
struct LoraTargets {
  const AdaptableModules* unet = nullptr;
  const AdaptableModules* text_encoder = nullptr;
};

struct LoraFile {
  LoraFileFormat format;
  LoraWeights weights;
};

// Reads `path`, detecting its format from the keys. INVALID_ARGUMENT names
// every key that follows no scheme, mixes formats, names no module of its
// network, lacks its down/up partner, or does not fit the module's shape.
// Tensors keep the file's dtype (CPU).
absl::StatusOr<LoraFile> ReadLoraFile(const std::string& path, const LoraTargets& targets);

// Writes `weights` to `path` (atomically) with the keys and metadata the
// tools of `format` write: kohya adds ss_network_module / ss_network_dim /
// ss_network_alpha (and ss_network_args for conv modules); peft adds
// format = "pt" and lora_adapter_metadata; legacy adds format = "pt".
// Metadata owned by the other formats is dropped, the rest kept.
absl::Status WriteLoraFile(const std::string& path, const LoraWeights& weights, LoraFileFormat format);

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_FILE_H_

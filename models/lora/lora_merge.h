// Merged LoRA: W += scale · (alpha / rank) · up @ down into the base weights
// of the adapted modules (any Linear or Conv2d), and the exact inverse.
// Inference then costs nothing extra; changing the scale means un-merging
// and merging again. The arithmetic runs in float32 (float64 for float64
// weights) and the result is rounded once to the weight's dtype, so with
// float32 weights un-merge restores W to within a few ulps; with float16 /
// bfloat16 weights each merge rounds to that precision.
#ifndef DREAMSHOT_MODELS_LORA_LORA_MERGE_H_
#define DREAMSHOT_MODELS_LORA_LORA_MERGE_H_

#include "absl/status/status.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_weights.h"

namespace dreamshot::models::lora {

// Checks every module first (AdaptableModules::Check), so on error nothing
// has been changed.
absl::Status MergeLora(const AdaptableModules& modules, const LoraModuleMap& weights, double scale);
// Subtracts what MergeLora(modules, weights, scale) added.
absl::Status UnmergeLora(const AdaptableModules& modules, const LoraModuleMap& weights, double scale);

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_MERGE_H_

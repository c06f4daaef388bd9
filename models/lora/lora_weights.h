// LoRA adapter weights in one format-independent form: per adapted module
// (named by its path in our model, which is the upstream module path) the
// down and up matrices and an optional alpha. Reading and writing the file
// formats is lora_file.h; applying them is lora_merge.h / lora_runtime.h.
//
// The weight delta of a module is ΔW = (alpha / rank) · up @ down:
//   Linear: down [r, in], up [out, r] → ΔW [out, in];
//   Conv2d: down [r, in, kh, kw], up [out, r, 1, 1] → ΔW [out, in, kh, kw].
// A missing alpha means alpha == rank (diffusers/peft files carry none).
#ifndef DREAMSHOT_MODELS_LORA_LORA_WEIGHTS_H_
#define DREAMSHOT_MODELS_LORA_LORA_WEIGHTS_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace dreamshot::models::lora {

// The networks a LoRA file may adapt.
enum class LoraComponent { kUNet, kTextEncoder };
const char* ComponentName(LoraComponent component);  // "unet", "text_encoder"

struct LoraModuleWeights {
  at::Tensor down;  // [r, in] or [r, in, kh, kw]
  at::Tensor up;    // [out, r] or [out, r, 1, 1]
  std::optional<double> alpha;  // none: alpha == rank

  int64_t rank() const { return down.size(0); }
  double alpha_or_rank() const { return alpha.value_or(static_cast<double>(rank())); }
  double alpha_over_rank() const { return alpha_or_rank() / static_cast<double>(rank()); }
};

// Module path ("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0",
// "text_model.encoder.layers.0.self_attn.q_proj") → its adapter weights.
using LoraModuleMap = std::map<std::string, LoraModuleWeights>;

struct LoraWeights {
  LoraModuleMap unet;
  LoraModuleMap text_encoder;
  // The file's safetensors __metadata__, kept as read (and written back).
  std::map<std::string, std::string> metadata;

  const LoraModuleMap& modules(LoraComponent c) const { return c == LoraComponent::kUNet ? unet : text_encoder; }
  LoraModuleMap& modules(LoraComponent c) { return c == LoraComponent::kUNet ? unet : text_encoder; }
};

// Rank and shape consistency of one module's pair (down/up ranks agree,
// 2-D/2-D or 4-D/4-D with a 1×1 up). INVALID_ARGUMENT naming `name`.
absl::Status CheckPairShapes(const std::string& name, const LoraModuleWeights& w);

// (alpha / rank) · up @ down in float32 (or the weights' dtype when it is
// float64), shaped like the adapted module's weight (see the top).
at::Tensor WeightDelta(const LoraModuleWeights& w);

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_WEIGHTS_H_

#include "models/lora/lora_weights.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::models::lora {

const char* ComponentName(LoraComponent component) {
  return component == LoraComponent::kUNet ? "unet" : "text_encoder";
}

absl::Status CheckPairShapes(const std::string& name, const LoraModuleWeights& w) {
  auto shapes = [&] {
    return absl::StrCat(" (down [", absl::StrJoin(w.down.sizes(), ", "), "], up [", absl::StrJoin(w.up.sizes(), ", "),
                        "])");
  };
  if (!w.down.defined() || !w.up.defined()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", w.down.defined() ? "up" : "down", " weight missing"));
  }
  const bool linear = w.down.dim() == 2 && w.up.dim() == 2;
  const bool conv = w.down.dim() == 4 && w.up.dim() == 4 && w.up.size(2) == 1 && w.up.size(3) == 1;
  if (!linear && !conv) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not a Linear or Conv2d LoRA pair", shapes()));
  }
  if (w.down.size(0) != w.up.size(1) || w.down.size(0) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": down and up ranks differ", shapes()));
  }
  return absl::OkStatus();
}

at::Tensor WeightDelta(const LoraModuleWeights& w) {
  const auto dtype = w.down.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const torch::Tensor down = w.down.to(dtype).flatten(1);            // [r, in·kh·kw]
  const torch::Tensor up = w.up.to(dtype).flatten(1);                // [out, r]
  torch::Tensor delta = torch::mm(up, down).mul_(w.alpha_over_rank());  // [out, in·kh·kw]
  if (w.down.dim() == 2) return delta;
  return delta.view({w.up.size(0), w.down.size(1), w.down.size(2), w.down.size(3)});
}

}  // namespace dreamshot::models::lora

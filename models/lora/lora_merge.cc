#include "models/lora/lora_merge.h"

#include <torch/torch.h>

#include "core/status_macros.h"

namespace dreamshot::models::lora {
namespace {

absl::Status AddScaledDeltas(const AdaptableModules& modules, const LoraModuleMap& weights, double scale) {
  RETURN_IF_ERROR(modules.Check(weights));
  torch::NoGradGuard no_grad;
  for (const auto& [path, w] : weights) {
    at::Tensor weight = modules.Weight(path);
    const auto compute = weight.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    const torch::Tensor delta = WeightDelta(w).to(weight.device(), compute);  // weight-shaped
    weight.copy_(weight.to(compute).add_(delta, scale));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MergeLora(const AdaptableModules& modules, const LoraModuleMap& weights, double scale) {
  return AddScaledDeltas(modules, weights, scale);
}

absl::Status UnmergeLora(const AdaptableModules& modules, const LoraModuleMap& weights, double scale) {
  return AddScaledDeltas(modules, weights, -scale);
}

}  // namespace dreamshot::models::lora

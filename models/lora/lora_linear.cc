#include "models/lora/lora_linear.h"

#include <torch/torch.h>

#include <algorithm>

namespace dreamshot::models::lora {

at::Tensor LoraLinearImpl::forward(const at::Tensor& x) {
  at::Tensor y = torch::nn::LinearImpl::forward(x);  // [..., out]
  if (deltas_.empty()) return y;
  const bool in_place = !torch::GradMode::is_enabled();
  for (const RuntimeDelta& d : deltas_) {
    const double scale = d.scale->value * d.alpha_over_rank;
    if (scale == 0.0) continue;
    // [..., in] → [..., r] → [..., out]; the rank-r bottleneck is the point.
    at::Tensor delta = torch::linear(torch::linear(x, d.down), d.up);
    y = in_place ? y.add_(delta, scale) : y + delta * scale;
  }
  return y;
}

int LoraLinearImpl::RemoveRuntimeDeltas(const std::string& adapter) {
  const auto first = std::remove_if(deltas_.begin(), deltas_.end(),
                                    [&](const RuntimeDelta& d) { return d.adapter == adapter; });
  const int removed = static_cast<int>(deltas_.end() - first);
  deltas_.erase(first, deltas_.end());
  return removed;
}

}  // namespace dreamshot::models::lora

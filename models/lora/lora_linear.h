// A torch::nn::Linear that can carry runtime LoRA deltas: forward computes
// base(x) + Σ scale_i · up_i(down_i(x)) over the attached deltas, leaving the
// base weight untouched. The model code declares its adaptable projections
// with this type (attention to_q/to_k/to_v/to_out.0, feed-forward, CLIP
// q/k/v/out_proj, fc1/fc2); parameter names and checkpoint loading are those
// of torch::nn::Linear. With nothing attached the cost is one emptiness test.
//
// Deltas are attached and detached by models/lora/lora_runtime.h; this file
// only knows how to evaluate them, so that model libraries depend on nothing
// but LibTorch. Module class: for model .cc files and model headers only.
//
// clone() of the enclosing module slices this back to a plain LinearImpl
// (LibTorch's Cloneable<LinearImpl>); attached deltas are not cloned.
#ifndef DREAMSHOT_MODELS_LORA_LORA_LINEAR_H_
#define DREAMSHOT_MODELS_LORA_LORA_LINEAR_H_

#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

namespace dreamshot::models::lora {

// One adapter's user scale, shared by every layer the adapter is attached
// to, so that changing it is one store, not a walk over the model.
struct AdapterScale {
  double value = 1.0;
};

// down: [r, in], up: [out, r], both in the layer's dtype and on its device.
struct RuntimeDelta {
  std::string adapter;
  at::Tensor down;
  at::Tensor up;
  double alpha_over_rank = 1.0;
  std::shared_ptr<const AdapterScale> scale;
};

class LoraLinearImpl : public torch::nn::LinearImpl {
 public:
  using torch::nn::LinearImpl::LinearImpl;
  // x: [..., in] → [..., out]
  at::Tensor forward(const at::Tensor& x);

  const std::vector<RuntimeDelta>& runtime_deltas() const { return deltas_; }
  void AddRuntimeDelta(RuntimeDelta delta) { deltas_.push_back(std::move(delta)); }
  // Removes the deltas of `adapter`; returns how many there were.
  int RemoveRuntimeDeltas(const std::string& adapter);

 private:
  std::vector<RuntimeDelta> deltas_;
};
TORCH_MODULE(LoraLinear);

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_LINEAR_H_

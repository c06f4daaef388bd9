#include "models/unet/checkpoint.h"

#include <torch/torch.h>

#include "models/lora/lora_linear.h"

namespace dreamshot::models::unet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs besides tensors: the block and which inputs need grad.
struct CheckpointState : torch::CustomClassHolder {
  BlockFn fn;
  size_t num_inputs = 0;
  std::vector<bool> input_requires_grad;
  std::vector<at::Tensor> params;  // trainable parameters of the block (leaves)
};

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  // args = block inputs followed by the block's trainable parameters.
  static variable_list forward(AutogradContext* ctx, at::TensorList args,
                               const c10::intrusive_ptr<CheckpointState>& state) {
    // Grad mode is off here (Function::apply), so fn records no graph.
    std::vector<at::Tensor> inputs(args.begin(), args.begin() + state->num_inputs);
    at::Tensor out = state->fn(inputs);
    ctx->save_for_backward(inputs);
    ctx->saved_data["state"] = c10::IValue::make_capsule(state);
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto state = c10::static_intrusive_pointer_cast<CheckpointState>(ctx->saved_data["state"].toCapsule());
    variable_list saved = ctx->get_saved_variables();
    std::vector<at::Tensor> inputs;
    std::vector<at::Tensor> wrt;        // tensors to differentiate with respect to
    std::vector<size_t> wrt_positions;  // their positions in the Function's inputs
    for (size_t i = 0; i < saved.size(); ++i) {
      at::Tensor t = saved[i].defined() ? saved[i].detach() : saved[i];
      if (t.defined() && state->input_requires_grad[i]) {
        t.requires_grad_(true);
        wrt.push_back(t);
        wrt_positions.push_back(i);
      }
      inputs.push_back(t);
    }
    const size_t num_params = state->params.size();
    variable_list grads(state->num_inputs + num_params + 1);  // + the non-tensor state argument
    at::Tensor out;
    {
      torch::AutoGradMode enable_grad(true);
      out = state->fn(inputs);
    }
    for (size_t p = 0; p < num_params; ++p) {
      wrt.push_back(state->params[p]);
      wrt_positions.push_back(state->num_inputs + p);
    }
    if (wrt.empty() || !out.requires_grad()) return grads;
    variable_list computed = torch::autograd::grad({out}, wrt, {grad_outputs[0]}, /*retain_graph=*/false,
                                                   /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t j = 0; j < wrt_positions.size(); ++j) grads[wrt_positions[j]] = computed[j];
    return grads;
  }
};

}  // namespace

at::Tensor CheckpointedCall(const BlockFn& fn, const std::vector<at::Tensor>& inputs,
                            const torch::nn::Module& module) {
  if (!torch::GradMode::is_enabled()) return fn(inputs);
  std::vector<at::Tensor> params;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  // Runtime LoRA deltas are not registered parameters, yet they are what
  // LoRA training differentiates: without them here their gradients would
  // be lost inside the recomputed block.
  for (const auto& m : module.modules(/*include_self=*/false)) {
    const auto* linear = dynamic_cast<const lora::LoraLinearImpl*>(m.get());
    if (linear == nullptr) continue;
    for (const lora::RuntimeDelta& d : linear->runtime_deltas()) {
      for (const at::Tensor& t : {d.down, d.up}) {
        if (t.defined() && t.requires_grad()) params.push_back(t);
      }
    }
  }
  bool any_grad = !params.empty();
  auto state = c10::make_intrusive<CheckpointState>();
  state->fn = fn;
  state->num_inputs = inputs.size();
  for (const auto& t : inputs) {
    const bool rg = t.defined() && t.requires_grad();
    state->input_requires_grad.push_back(rg);
    any_grad = any_grad || rg;
  }
  if (!any_grad) return fn(inputs);
  variable_list args(inputs.begin(), inputs.end());
  args.insert(args.end(), params.begin(), params.end());
  state->params = std::move(params);
  // A TensorList (not a vector) so that apply() sees each element as an input.
  return CheckpointFunction::apply(at::TensorList(args), state)[0];
}

}  // namespace dreamshot::models::unet

#include "models/clip/clip_encoder.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace dreamshot::models::clip {
namespace {

// The projections LoRA adapts (attention q/k/v/out, MLP fc1/fc2): a Linear
// that runtime adapters can attach to (models/lora/lora_linear.h).
lora::LoraLinear Projection(int64_t in, int64_t out) { return lora::LoraLinear(torch::nn::LinearOptions(in, out)); }

torch::nn::LayerNorm MakeLayerNorm(const ClipEncoderShape& s) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.hidden_size}).eps(s.layer_norm_eps));
}

}  // namespace

ClipAttentionImpl::ClipAttentionImpl(int64_t hidden_size) {
  k_proj = register_module("k_proj", Projection(hidden_size, hidden_size));
  v_proj = register_module("v_proj", Projection(hidden_size, hidden_size));
  q_proj = register_module("q_proj", Projection(hidden_size, hidden_size));
  out_proj = register_module("out_proj", Projection(hidden_size, hidden_size));
}

ClipMlpImpl::ClipMlpImpl(int64_t hidden_size, int64_t intermediate_size) {
  fc1 = register_module("fc1", Projection(hidden_size, intermediate_size));
  fc2 = register_module("fc2", Projection(intermediate_size, hidden_size));
}

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const ClipEncoderShape& shape, blocks::ActivationFn act)
    : activation(act), heads(shape.num_attention_heads) {
  self_attn = register_module("self_attn", ClipAttention(shape.hidden_size));
  layer_norm1 = register_module("layer_norm1", MakeLayerNorm(shape));
  mlp = register_module("mlp", ClipMlp(shape.hidden_size, shape.intermediate_size));
  layer_norm2 = register_module("layer_norm2", MakeLayerNorm(shape));
}

at::Tensor ClipEncoderLayerImpl::forward(const at::Tensor& x, const at::Tensor& causal_mask,
                                         blocks::EncoderPath path) {
  const blocks::PreLnLayerModules parts{layer_norm1.get(),     self_attn->q_proj.get(), self_attn->k_proj.get(),
                                       self_attn->v_proj.get(), self_attn->out_proj.get(), layer_norm2.get(),
                                       mlp->fc1.get(),          mlp->fc2.get(),          activation,
                                       heads};
  return blocks::PreLnLayerForward(parts, x, causal_mask, path);
}

ClipEncoderImpl::ClipEncoderImpl(const ClipEncoderShape& shape, blocks::ActivationFn activation) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < shape.num_hidden_layers; ++i) layers->push_back(ClipEncoderLayer(shape, activation));
}

at::Tensor ClipEncoderImpl::forward(at::Tensor x, const at::Tensor& causal_mask, blocks::EncoderPath path,
                                    std::vector<at::Tensor>* hidden_states) {
  for (const auto& layer : *layers) {
    x = layer->as<ClipEncoderLayerImpl>()->forward(x, causal_mask, path);
    if (hidden_states != nullptr) hidden_states->push_back(x);
  }
  return x;
}

void AddClipEncoderWeights(ExpectedTensors& out, const std::string& prefix, const ClipEncoderShape& s) {
  const int64_t h = s.hidden_size;
  const std::string keys = "hidden_size, num_hidden_layers";
  const std::string mlp_keys = "hidden_size, intermediate_size, num_hidden_layers";
  for (int64_t i = 0; i < s.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat(prefix, ".layers.", i);
    for (const char* proj : {".k_proj", ".v_proj", ".q_proj", ".out_proj"}) {
      out.Linear(p + ".self_attn" + proj, h, h, keys);
    }
    out.Norm(p + ".layer_norm1", h, keys);
    out.Linear(p + ".mlp.fc1", h, s.intermediate_size, mlp_keys);
    out.Linear(p + ".mlp.fc2", s.intermediate_size, h, mlp_keys);
    out.Norm(p + ".layer_norm2", h, keys);
  }
}

}  // namespace dreamshot::models::clip

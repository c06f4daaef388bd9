// CLIPEncoder of transformers: the stack of pre-LN layers that the text and
// the vision tower share (layers.N.self_attn.{q,k,v,out}_proj,
// layer_norm1/2, mlp.fc1/fc2). The text tower runs it with a causal mask,
// the vision tower without. Module classes: for the CLIP model .cc files.
#ifndef DREAMSHOT_MODELS_CLIP_CLIP_ENCODER_H_
#define DREAMSHOT_MODELS_CLIP_CLIP_ENCODER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

#include "models/blocks/pre_ln_layer.h"
#include "models/clip/clip_encoder_shape.h"
#include "models/lora/lora_linear.h"

namespace dreamshot::models::clip {

struct ClipAttentionImpl : torch::nn::Module {
  explicit ClipAttentionImpl(int64_t hidden_size);
  lora::LoraLinear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(ClipAttention);

struct ClipMlpImpl : torch::nn::Module {
  ClipMlpImpl(int64_t hidden_size, int64_t intermediate_size);
  lora::LoraLinear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ClipMlp);

struct ClipEncoderLayerImpl : torch::nn::Module {
  ClipEncoderLayerImpl(const ClipEncoderShape& shape, blocks::ActivationFn activation);
  // x: [B, L, H]; causal_mask: [L, L] or undefined.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& causal_mask, blocks::EncoderPath path);

  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr};
  ClipMlp mlp{nullptr};
  torch::nn::LayerNorm layer_norm2{nullptr};
  blocks::ActivationFn activation;
  int64_t heads;
};
TORCH_MODULE(ClipEncoderLayer);

struct ClipEncoderImpl : torch::nn::Module {
  ClipEncoderImpl(const ClipEncoderShape& shape, blocks::ActivationFn activation);
  // Runs every layer; with `hidden_states`, appends each layer's output.
  at::Tensor forward(at::Tensor x, const at::Tensor& causal_mask, blocks::EncoderPath path,
                     std::vector<at::Tensor>* hidden_states = nullptr);
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(ClipEncoder);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_CLIP_ENCODER_H_

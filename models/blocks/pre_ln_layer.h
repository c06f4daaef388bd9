// The pre-LayerNorm transformer encoder layer that CLIP (text and vision
// towers) and ViT/DINO share:
//   h = x + out(attention(q(n1(x)), k(n1(x)), v(n1(x))))
//   y = h + fc2(act(fc1(n2(h))))
// Each model registers these modules under its own upstream names (CLIP's
// self_attn.q_proj, ViT's attention.attention.query, ...) and hands them
// here, so the arithmetic is written once. Module classes: for model .cc
// files only (this header pulls in LibTorch's module headers).
#ifndef DREAMSHOT_MODELS_BLOCKS_PRE_LN_LAYER_H_
#define DREAMSHOT_MODELS_BLOCKS_PRE_LN_LAYER_H_

#include <torch/nn/modules/normalization.h>

#include <string>

#include "absl/status/statusor.h"
#include "models/lora/lora_linear.h"

namespace dreamshot::models::blocks {

using ActivationFn = at::Tensor (*)(const at::Tensor&);

// transformers' ACT2FN names: quick_gelu (x·σ(1.702x)), gelu (exact erf),
// gelu_new and gelu_pytorch_tanh (tanh approximation).
absl::StatusOr<ActivationFn> ActivationByName(const std::string& name);

// kOurs: without autograd and without a mask, attention runs through
// models/attention (the cache-blocked CPU kernel) and the residual adds are
// in place. kStock: the formulation of transformers in eager PyTorch (ATen
// matmul, softmax, matmul; fresh tensors), kept for comparisons
// (//bench:encoder_benchmark) and used whenever a mask is given or autograd
// records (text-encoder LoRA training).
enum class EncoderPath { kOurs, kStock };

struct PreLnLayerModules {
  torch::nn::LayerNormImpl* norm1 = nullptr;
  lora::LoraLinearImpl* q = nullptr;
  lora::LoraLinearImpl* k = nullptr;
  lora::LoraLinearImpl* v = nullptr;
  lora::LoraLinearImpl* out = nullptr;
  torch::nn::LayerNormImpl* norm2 = nullptr;
  lora::LoraLinearImpl* fc1 = nullptr;
  lora::LoraLinearImpl* fc2 = nullptr;
  ActivationFn activation = nullptr;
  int64_t heads = 1;
};

// x: [B, L, H]; causal_mask: [L, L] added to the scores (-inf above the
// diagonal), or undefined for none. The queries are scaled by
// head_dim^-0.5 before q·kᵀ, as CLIP does (ViT divides the scores instead:
// the same value up to float rounding).
at::Tensor PreLnLayerForward(const PreLnLayerModules& m, const at::Tensor& x, const at::Tensor& causal_mask,
                             EncoderPath path);

}  // namespace dreamshot::models::blocks

#endif  // DREAMSHOT_MODELS_BLOCKS_PRE_LN_LAYER_H_

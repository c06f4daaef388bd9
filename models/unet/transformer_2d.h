// The UNet's spatial transformer, as in diffusers' attention_processor.py
// (Attention), attention.py (GEGLU, FeedForward, BasicTransformerBlock) and
// transformer_2d.py (Transformer2DModel, continuous input). Parameter names
// follow upstream: attn1.to_q, attn2.to_out.0, ff.net.0.proj, ff.net.2,
// transformer_blocks.0.norm3, proj_in, proj_out. Module classes: for model
// .cc files only.
#ifndef DREAMSHOT_MODELS_UNET_TRANSFORMER_2D_H_
#define DREAMSHOT_MODELS_UNET_TRANSFORMER_2D_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "models/lora/lora_linear.h"

namespace dreamshot::models::unet {

// Multi-head attention with to_q/to_k/to_v (no bias) and to_out.0 (bias).
// The projections are LoraLinear: runtime LoRA adapters attach to them.
struct AttentionImpl : torch::nn::Module {
  // context_dim 0: self-attention (keys/values from the queries' input).
  AttentionImpl(int64_t query_dim, int64_t context_dim, int64_t heads, int64_t dim_head, bool upcast_attention);
  // x: [B, L, query_dim]; context: [B, S, context_dim] or undefined (self) → [B, L, query_dim]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context = {});

  int64_t heads, dim_head;
  bool upcast_attention;
  lora::LoraLinear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
  torch::nn::ModuleList to_out{nullptr};  // [LoraLinear, Dropout]
};
TORCH_MODULE(Attention);

// proj: Linear(dim → 2·inner); out = h · gelu(gate) for (h, gate) = chunk(2).
struct GegluImpl : torch::nn::Module {
  GegluImpl(int64_t dim_in, int64_t dim_out);
  at::Tensor forward(const at::Tensor& x);
  lora::LoraLinear proj{nullptr};
};
TORCH_MODULE(Geglu);

// net = [GEGLU(dim → 4·dim), Dropout, LoraLinear(4·dim → dim)].
struct FeedForwardImpl : torch::nn::Module {
  explicit FeedForwardImpl(int64_t dim, int64_t mult = 4);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ModuleList net{nullptr};
};
TORCH_MODULE(FeedForward);

struct BasicTransformerBlockOptions {
  int64_t dim = 0;
  int64_t heads = 0;
  int64_t dim_head = 0;
  int64_t cross_attention_dim = 0;
  bool only_cross_attention = false;  // attn1 also attends to the context
  bool upcast_attention = false;
};

// LN → self-attn (+res), LN → cross-attn (+res), LN → GEGLU FF (+res).
struct BasicTransformerBlockImpl : torch::nn::Module {
  explicit BasicTransformerBlockImpl(const BasicTransformerBlockOptions& o);
  // x: [B, L, dim]; context: [B, S, cross_attention_dim] → [B, L, dim]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  bool only_cross_attention;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  Attention attn1{nullptr}, attn2{nullptr};
  FeedForward ff{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

struct Transformer2DOptions {
  int64_t in_channels = 0;
  int64_t heads = 0;
  int64_t dim_head = 0;  // inner dim = heads · dim_head
  int64_t num_layers = 1;
  int64_t cross_attention_dim = 0;
  int64_t norm_num_groups = 32;
  bool use_linear_projection = false;
  bool only_cross_attention = false;
  bool upcast_attention = false;
};

// GroupNorm(eps 1e-6) → proj_in (1×1 conv, or Linear on [B, HW, C]) →
// transformer_blocks → proj_out → + input.
struct Transformer2DModelImpl : torch::nn::Module {
  explicit Transformer2DModelImpl(const Transformer2DOptions& o);
  // x: [B, C, H, W]; context: [B, S, cross_attention_dim] → [B, C, H, W]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  bool use_linear_projection;
  torch::nn::GroupNorm norm{nullptr};
  torch::nn::AnyModule proj_in, proj_out;  // Conv2d or LoraLinear
  torch::nn::ModuleList transformer_blocks{nullptr};
};
TORCH_MODULE(Transformer2DModel);

}  // namespace dreamshot::models::unet

#endif  // DREAMSHOT_MODELS_UNET_TRANSFORMER_2D_H_

#include "models/unet/transformer_2d.h"

#include <torch/torch.h>

#include <cmath>

#include "models/attention/attention.h"
#include "models/blocks/resnet.h"

namespace dreamshot::models::unet {
namespace {

lora::LoraLinear LinearNoBias(int64_t in, int64_t out) {
  return lora::LoraLinear(torch::nn::LinearOptions(in, out).bias(false));
}

torch::nn::LayerNorm MakeLayerNorm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5).elementwise_affine(true));
}

}  // namespace

AttentionImpl::AttentionImpl(int64_t query_dim, int64_t context_dim, int64_t heads_, int64_t dim_head_,
                             bool upcast)
    : heads(heads_), dim_head(dim_head_), upcast_attention(upcast) {
  const int64_t inner = heads * dim_head;
  const int64_t kv_dim = context_dim > 0 ? context_dim : query_dim;
  to_q = register_module("to_q", LinearNoBias(query_dim, inner));
  to_k = register_module("to_k", LinearNoBias(kv_dim, inner));
  to_v = register_module("to_v", LinearNoBias(kv_dim, inner));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out->push_back(lora::LoraLinear(torch::nn::LinearOptions(inner, query_dim)));
  to_out->push_back(torch::nn::Dropout(0.0));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const at::Tensor& kv_in = context.defined() ? context : x;
  at::Tensor q = to_q(x), k = to_k(kv_in), v = to_v(kv_in);  // [B, L, h·d]
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim_head));
  at::Tensor out;
  if (upcast_attention && q.scalar_type() != torch::kFloat) {
    // As upstream: scores and softmax in float32, the value product in v's dtype.
    out = MultiHeadAttention(q.to(torch::kFloat), k.to(torch::kFloat), v, heads, scale);
  } else {
    out = MultiHeadAttention(q, k, v, heads, scale);  // [B, Lq, h·d]
  }
  return to_out[0]->as<lora::LoraLinearImpl>()->forward(out);  // dropout (index 1) is p = 0
}

GegluImpl::GegluImpl(int64_t dim_in, int64_t dim_out) {
  proj = register_module("proj", lora::LoraLinear(torch::nn::LinearOptions(dim_in, dim_out * 2)));
}

at::Tensor GegluImpl::forward(const at::Tensor& x) {
  auto parts = proj(x).chunk(2, -1);  // hidden, gate: [..., dim_out] each
  if (torch::GradMode::is_enabled()) return parts[0] * torch::gelu(parts[1]);
  return torch::gelu(parts[1]).mul_(parts[0]);  // gelu's output is a fresh buffer
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t mult) {
  const int64_t inner = dim * mult;
  net = register_module("net", torch::nn::ModuleList());
  net->push_back(Geglu(dim, inner));
  net->push_back(torch::nn::Dropout(0.0));
  net->push_back(lora::LoraLinear(torch::nn::LinearOptions(inner, dim)));
}

at::Tensor FeedForwardImpl::forward(const at::Tensor& x) {
  at::Tensor h = net[0]->as<GegluImpl>()->forward(x);  // [B, L, 4·dim]
  return net[2]->as<lora::LoraLinearImpl>()->forward(h);
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(const BasicTransformerBlockOptions& o)
    : only_cross_attention(o.only_cross_attention) {
  norm1 = register_module("norm1", MakeLayerNorm(o.dim));
  attn1 = register_module("attn1", Attention(o.dim, o.only_cross_attention ? o.cross_attention_dim : 0, o.heads,
                                             o.dim_head, o.upcast_attention));
  norm2 = register_module("norm2", MakeLayerNorm(o.dim));
  attn2 = register_module("attn2",
                          Attention(o.dim, o.cross_attention_dim, o.heads, o.dim_head, o.upcast_attention));
  norm3 = register_module("norm3", MakeLayerNorm(o.dim));
  ff = register_module("ff", FeedForward(o.dim));
}

at::Tensor BasicTransformerBlockImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  at::Tensor h = AddIntoTemporary(attn1(norm1(x), only_cross_attention ? context : at::Tensor()), x);
  h = AddIntoTemporary(attn2(norm2(h), context), h);
  return AddIntoTemporary(ff(norm3(h)), h);
}

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DOptions& o)
    : use_linear_projection(o.use_linear_projection) {
  const int64_t inner = o.heads * o.dim_head;
  norm = register_module("norm", MakeGroupNorm(o.norm_num_groups, o.in_channels, 1e-6));
  if (use_linear_projection) {
    proj_in = torch::nn::AnyModule(register_module("proj_in", lora::LoraLinear(torch::nn::LinearOptions(o.in_channels, inner))));
  } else {
    proj_in = torch::nn::AnyModule(register_module(
        "proj_in", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, inner, 1))));
  }
  transformer_blocks = register_module("transformer_blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    BasicTransformerBlockOptions bo;
    bo.dim = inner;
    bo.heads = o.heads;
    bo.dim_head = o.dim_head;
    bo.cross_attention_dim = o.cross_attention_dim;
    bo.only_cross_attention = o.only_cross_attention;
    bo.upcast_attention = o.upcast_attention;
    transformer_blocks->push_back(BasicTransformerBlock(bo));
  }
  if (use_linear_projection) {
    proj_out = torch::nn::AnyModule(register_module("proj_out", lora::LoraLinear(torch::nn::LinearOptions(inner, o.in_channels))));
  } else {
    proj_out = torch::nn::AnyModule(register_module(
        "proj_out", torch::nn::Conv2d(torch::nn::Conv2dOptions(inner, o.in_channels, 1))));
  }
}

at::Tensor Transformer2DModelImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const int64_t b = x.size(0), height = x.size(2), width = x.size(3);
  at::Tensor h = norm(x);  // [B, C, H, W]
  int64_t inner = 0;
  if (!use_linear_projection) {
    h = proj_in.forward(h);  // [B, inner, H, W]
    inner = h.size(1);
    h = h.permute({0, 2, 3, 1}).reshape({b, height * width, inner});  // [B, HW, inner]
  } else {
    h = h.permute({0, 2, 3, 1}).reshape({b, height * width, h.size(1)});  // [B, HW, C]
    h = proj_in.forward(h);                                                 // [B, HW, inner]
    inner = h.size(2);
  }
  for (const auto& block : *transformer_blocks) {
    h = block->as<BasicTransformerBlockImpl>()->forward(h, context);
  }
  if (!use_linear_projection) {
    h = h.reshape({b, height, width, inner}).permute({0, 3, 1, 2}).contiguous();  // [B, inner, H, W]
    h = proj_out.forward(h);                                                       // [B, C, H, W]
  } else {
    h = proj_out.forward(h);  // [B, HW, C]
    h = h.reshape({b, height, width, h.size(2)}).permute({0, 3, 1, 2}).contiguous();
  }
  return AddIntoTemporary(h, x);
}

}  // namespace dreamshot::models::unet

#include "models/vae/vae_blocks.h"

#include <torch/torch.h>

#include <cmath>

#include "models/attention/attention.h"
#include "models/blocks/resnet.h"

namespace dreamshot::models::vae {
namespace {

ResnetBlock2D MakeResnet(int64_t in, int64_t out, int64_t groups, double eps) {
  ResnetBlock2DOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.temb_channels = 0;  // the VAE has no time embedding
  o.groups = groups;
  o.eps = eps;
  return ResnetBlock2D(o);
}

torch::Tensor RunResnets(const torch::nn::ModuleList& resnets, torch::Tensor h) {
  // Moved in so that large activations can be overwritten by the next block.
  for (const auto& r : *resnets) h = r->as<ResnetBlock2DImpl>()->forward(std::move(h));
  return h;
}

}  // namespace

VaeAttentionImpl::VaeAttentionImpl(int64_t channels_, int64_t groups, double eps, double rescale)
    : channels(channels_), rescale_output_factor(rescale) {
  group_norm = register_module("group_norm", MakeGroupNorm(groups, channels, eps));
  to_q = register_module("to_q", torch::nn::Linear(channels, channels));
  to_k = register_module("to_k", torch::nn::Linear(channels, channels));
  to_v = register_module("to_v", torch::nn::Linear(channels, channels));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out->push_back(torch::nn::Linear(channels, channels));
}

torch::Tensor VaeAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  // GroupNorm on [B, C, H, W] equals upstream's norm of [B, C, HW].
  torch::Tensor tokens = group_norm(x).view({b, c, h * w}).transpose(1, 2);  // [B, HW, C]
  torch::Tensor q = to_q(tokens), k = to_k(tokens), v = to_v(tokens);       // [B, HW, C] (one head)
  torch::Tensor attn = ScaledDotProductAttention(q, k, v, 1.0 / std::sqrt(static_cast<double>(c)));
  torch::Tensor out = to_out[0]->as<torch::nn::LinearImpl>()->forward(attn);  // [B, HW, C]
  out = AddIntoTemporary(out.transpose(1, 2).reshape({b, c, h, w}), x);      // residual
  return rescale_output_factor == 1.0 ? out : out / rescale_output_factor;
}

UNetMidBlock2DImpl::UNetMidBlock2DImpl(int64_t channels, int64_t groups, double eps, bool add_attention) {
  attentions = register_module("attentions", torch::nn::ModuleList());
  if (add_attention) attentions->push_back(VaeAttention(channels, groups, eps));
  resnets = register_module("resnets", torch::nn::ModuleList());
  resnets->push_back(MakeResnet(channels, channels, groups, eps));
  resnets->push_back(MakeResnet(channels, channels, groups, eps));
}

torch::Tensor UNetMidBlock2DImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = resnets[0]->as<ResnetBlock2DImpl>()->forward(x);
  if (!attentions->is_empty()) h = attentions[0]->as<VaeAttentionImpl>()->forward(h);
  return resnets[1]->as<ResnetBlock2DImpl>()->forward(h);
}

DownEncoderBlock2DImpl::DownEncoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers,
                                               int64_t groups, double eps, bool add_downsample) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    resnets->push_back(MakeResnet(i == 0 ? in_channels : out_channels, out_channels, groups, eps));
  }
  if (add_downsample) {
    downsamplers = register_module("downsamplers", torch::nn::ModuleList());
    downsamplers->push_back(Downsample2D(out_channels, /*padding=*/0));
  }
}

torch::Tensor DownEncoderBlock2DImpl::forward(torch::Tensor x) {
  torch::Tensor h = RunResnets(resnets, std::move(x));
  if (downsamplers) h = downsamplers[0]->as<Downsample2DImpl>()->forward(h);
  return h;
}

UpDecoderBlock2DImpl::UpDecoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers,
                                           int64_t groups, double eps, bool add_upsample) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    resnets->push_back(MakeResnet(i == 0 ? in_channels : out_channels, out_channels, groups, eps));
  }
  if (add_upsample) {
    upsamplers = register_module("upsamplers", torch::nn::ModuleList());
    upsamplers->push_back(Upsample2D(out_channels));
  }
}

torch::Tensor UpDecoderBlock2DImpl::forward(torch::Tensor x) {
  torch::Tensor h = RunResnets(resnets, std::move(x));
  if (upsamplers) h = upsamplers[0]->as<Upsample2DImpl>()->forward(h);
  return h;
}

}  // namespace dreamshot::models::vae

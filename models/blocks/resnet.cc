#include "models/blocks/resnet.h"

#include <torch/torch.h>

#include "models/blocks/banded_conv.h"
#include "models/blocks/conv.h"

namespace dreamshot::models {

torch::nn::GroupNorm MakeGroupNorm(int64_t groups, int64_t channels, double eps) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(eps).affine(true));
}

torch::Tensor GroupNormSilu(torch::nn::GroupNormImpl& norm, const torch::Tensor& x) {
  torch::Tensor h = norm.forward(x);
  return torch::GradMode::is_enabled() ? torch::silu(h) : torch::silu_(h);
}

torch::Tensor AddIntoTemporary(torch::Tensor a, const torch::Tensor& b) {
  if (torch::GradMode::is_enabled() || a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return a + b;
  return a.add_(b);
}

namespace {

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out, int64_t stride = 1, int64_t padding = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(padding));
}

}  // namespace

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetBlock2DOptions& o) : options(o) {
  norm1 = register_module("norm1", MakeGroupNorm(o.groups, o.in_channels, o.eps));
  conv1 = register_module("conv1", Conv3x3(o.in_channels, o.out_channels));
  if (o.temb_channels > 0) {
    time_emb_proj = register_module("time_emb_proj", torch::nn::Linear(o.temb_channels, o.out_channels));
  }
  norm2 = register_module("norm2", MakeGroupNorm(o.groups, o.out_channels, o.eps));
  conv2 = register_module("conv2", Conv3x3(o.out_channels, o.out_channels));
  if (o.in_channels != o.out_channels) {
    conv_shortcut = register_module(
        "conv_shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, o.out_channels, 1)));
  }
}

torch::Tensor ResnetBlock2DImpl::forward(const torch::Tensor& x, const torch::Tensor& temb) {
  if (UseBandedConv(*conv1, RowsOf(x))) return ForwardBanded(x, temb);
  torch::Tensor h = Conv2dForward(*conv1, GroupNormSilu(*norm1, x));
  if (time_emb_proj && temb.defined()) {
    h = AddIntoTemporary(h, time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1).expand_as(h));  // [B, C, 1, 1]
  }
  h = Conv2dForward(*conv2, GroupNormSilu(*norm2, h));
  torch::Tensor out = conv_shortcut ? AddIntoTemporary(Conv2dForward(*conv_shortcut, x), h) : AddIntoTemporary(h, x);
  if (options.output_scale_factor == 1.0) return out;
  return torch::GradMode::is_enabled() ? out / options.output_scale_factor : out.div_(options.output_scale_factor);
}

// Inference on large activations: no normalised copy of x or h is made, and
// the second convolution adds its bands into the shortcut (or a copy of x).
torch::Tensor ResnetBlock2DImpl::ForwardBanded(const torch::Tensor& x, const torch::Tensor& temb) {
  torch::Tensor h = BandedConv2d(*conv1, GroupNormSiluRowsOf(*norm1, x));
  if (time_emb_proj && temb.defined()) h.add_(time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1));
  torch::Tensor out = conv_shortcut ? BandedConv2d(*conv_shortcut, RowsOf(x)) : x.clone();
  out = BandedConv2d(*conv2, GroupNormSiluRowsOf(*norm2, h), out);
  return options.output_scale_factor == 1.0 ? out : out.div_(options.output_scale_factor);
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t padding_) : padding(padding_) {
  conv = register_module("conv", Conv3x3(channels, channels, /*stride=*/2, padding));
}

torch::Tensor Downsample2DImpl::forward(const torch::Tensor& x) {
  if (padding == 0) {
    // [left, right, top, bottom]
    return Conv2dForward(*conv, torch::constant_pad_nd(x, {0, 1, 0, 1}, 0));
  }
  return Conv2dForward(*conv, x);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels) {
  conv = register_module("conv", Conv3x3(channels, channels));
}

torch::Tensor Upsample2DImpl::forward(const torch::Tensor& x, std::optional<std::vector<int64_t>> size) {
  if (!size && x.dim() == 4) {
    BandedInput upsampled = Upsample2xRowsOf(x);
    if (UseBandedConv(*conv, upsampled)) return BandedConv2d(*conv, upsampled);
  }
  // Nearest upsampling has no bfloat16 kernel in LibTorch 1.13: upcast, as diffusers does.
  const bool upcast = x.scalar_type() == torch::kBFloat16;
  torch::Tensor in = upcast ? x.to(torch::kFloat) : x.contiguous();
  torch::Tensor up = size ? torch::upsample_nearest2d(in, *size)
                          : torch::upsample_nearest2d(in, {in.size(2) * 2, in.size(3) * 2});
  if (upcast) up = up.to(torch::kBFloat16);
  return Conv2dForward(*conv, up);
}

}  // namespace dreamshot::models

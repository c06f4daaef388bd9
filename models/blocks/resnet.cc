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

torch::Tensor ResnetBlock2DImpl::forward(torch::Tensor x, const torch::Tensor& temb) {
  if (UseBandedConv(*conv1, RowsOf(x))) return ForwardBanded(std::move(x), temb);
  torch::Tensor h = Conv2dForward(*conv1, GroupNormSilu(*norm1, x));
  if (time_emb_proj && temb.defined()) {
    h = AddIntoTemporary(h, time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1).expand_as(h));  // [B, C, 1, 1]
  }
  h = Conv2dForward(*conv2, GroupNormSilu(*norm2, h));
  torch::Tensor out = conv_shortcut ? AddIntoTemporary(Conv2dForward(*conv_shortcut, x), h) : AddIntoTemporary(h, x);
  if (options.output_scale_factor == 1.0) return out;
  return torch::GradMode::is_enabled() ? out / options.output_scale_factor : out.div_(options.output_scale_factor);
}

namespace {

// A view of x's memory as a contiguous [B, channels, H, W] tensor when x is
// the only reference to that memory and it is large enough; else undefined.
torch::Tensor ReusableMemoryOf(const torch::Tensor& x, int64_t channels) {
  const int64_t numel = x.size(0) * channels * x.size(2) * x.size(3);
  if (x.use_count() != 1 || x.storage().use_count() != 1 || !x.is_contiguous() || x.storage_offset() != 0 ||
      numel > x.numel()) {
    return {};
  }
  // set_ rather than a view: a view keeps its base tensor, and so a second
  // reference to the memory, alive, and the next block could not reuse it.
  torch::Tensor out = torch::empty({0}, x.options());
  out.set_(x.storage(), 0, {x.size(0), channels, x.size(2), x.size(3)});
  return out;
}

}  // namespace

// Inference on large activations: no normalised copy of x or h is made, and
// the second convolution's bands are written with the residual (x, or the
// 1×1 shortcut of x's rows) added in. A consumed x holds the output: each
// band reads x's rows before overwriting those same rows, and row y of the
// output view lies in row y of x, so no row is overwritten before it is read.
// At the 512² level of the SD VAE decoder this drops a 134 MB output tensor.
torch::Tensor ResnetBlock2DImpl::ForwardBanded(torch::Tensor x, const torch::Tensor& temb) {
  torch::Tensor h = BandedConv2d(*conv1, GroupNormSiluRowsOf(*norm1, x));
  if (time_emb_proj && temb.defined()) h.add_(time_emb_proj(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1));
  torch::Tensor out = ReusableMemoryOf(x, options.out_channels);  // conv_shortcut is 1×1: it reads its own rows
  ConvOutputRows residual;
  if (conv_shortcut) {
    residual = [this, &x](int64_t y0, int64_t y1) { return Conv2dForward(*conv_shortcut, x.narrow(2, y0, y1 - y0)); };
  } else {
    residual = [&x](int64_t y0, int64_t y1) { return x.narrow(2, y0, y1 - y0); };
  }
  out = BandedConv2d(*conv2, GroupNormSiluRowsOf(*norm2, h), std::move(out), residual);
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

#include "models/vae/encoder_decoder.h"

#include <torch/torch.h>

#include <string>

#include "models/blocks/banded_conv.h"
#include "models/blocks/resnet.h"

namespace dreamshot::models::vae {
namespace {

// Every norm of the VAE uses eps 1e-6 (diffusers hard-codes it in vae.py).
constexpr double kEps = 1e-6;

torch::nn::Conv2d Conv3x3(int64_t in, int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
}

void Observe(const ActivationObserver* observer, const std::string& label, const torch::Tensor& t) {
  if (observer != nullptr && *observer) (*observer)(label, t);
}

}  // namespace

EncoderImpl::EncoderImpl(const EncoderDecoderOptions& o) {
  const auto& boc = o.block_out_channels;
  conv_in = register_module("conv_in", Conv3x3(o.in_channels, boc.front()));
  down_blocks = register_module("down_blocks", torch::nn::ModuleList());
  int64_t output_channel = boc.front();
  for (size_t i = 0; i < boc.size(); ++i) {
    const int64_t input_channel = output_channel;
    output_channel = boc[i];
    const bool is_final = i + 1 == boc.size();
    down_blocks->push_back(DownEncoderBlock2D(input_channel, output_channel, o.layers_per_block,
                                              o.norm_num_groups, kEps, /*add_downsample=*/!is_final));
  }
  mid_block = register_module("mid_block",
                              UNetMidBlock2D(boc.back(), o.norm_num_groups, kEps, o.mid_block_add_attention));
  conv_norm_out = register_module("conv_norm_out", MakeGroupNorm(o.norm_num_groups, boc.back(), kEps));
  conv_out = register_module("conv_out", Conv3x3(boc.back(), o.out_channels));
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x, const ActivationObserver* observer) {
  torch::Tensor h = conv_in(x);  // [B, C0, H, W]
  Observe(observer, "encoder.conv_in", h);
  int i = 0;
  for (const auto& block : *down_blocks) {
    h = block->as<DownEncoderBlock2DImpl>()->forward(std::move(h));  // [B, Ci, H/2^(i+1), W/2^(i+1)] (last: no /2)
    Observe(observer, "encoder.down_blocks." + std::to_string(i++), h);
  }
  h = mid_block(h);
  Observe(observer, "encoder.mid_block", h);
  return conv_out(torch::silu(conv_norm_out(h)));  // [B, 2·latent, H/f, W/f]
}

DecoderImpl::DecoderImpl(const EncoderDecoderOptions& o) {
  const auto& boc = o.block_out_channels;
  conv_in = register_module("conv_in", Conv3x3(o.in_channels, boc.back()));
  mid_block = register_module("mid_block",
                              UNetMidBlock2D(boc.back(), o.norm_num_groups, kEps, o.mid_block_add_attention));
  up_blocks = register_module("up_blocks", torch::nn::ModuleList());
  const std::vector<int64_t> reversed(boc.rbegin(), boc.rend());
  int64_t output_channel = reversed.front();
  for (size_t i = 0; i < reversed.size(); ++i) {
    const int64_t prev_output_channel = output_channel;
    output_channel = reversed[i];
    const bool is_final = i + 1 == reversed.size();
    up_blocks->push_back(UpDecoderBlock2D(prev_output_channel, output_channel, o.layers_per_block + 1,
                                          o.norm_num_groups, kEps, /*add_upsample=*/!is_final));
  }
  conv_norm_out = register_module("conv_norm_out", MakeGroupNorm(o.norm_num_groups, boc.front(), kEps));
  conv_out = register_module("conv_out", Conv3x3(boc.front(), o.out_channels));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z, const ActivationObserver* observer) {
  torch::Tensor h = conv_in(z);  // [B, C_last, h, w]
  Observe(observer, "decoder.conv_in", h);
  h = mid_block(h);
  Observe(observer, "decoder.mid_block", h);
  int i = 0;
  for (const auto& block : *up_blocks) {
    h = block->as<UpDecoderBlock2DImpl>()->forward(std::move(h));  // ×2 spatially except the last block
    Observe(observer, "decoder.up_blocks." + std::to_string(i++), h);
  }
  if (UseBandedConv(*conv_out, RowsOf(h))) {
    return BandedConv2d(*conv_out, GroupNormSiluRowsOf(*conv_norm_out, h));  // large images: no normalised copy
  }
  return conv_out(GroupNormSilu(*conv_norm_out, h));  // [B, 3, h·f, w·f]
}

}  // namespace dreamshot::models::vae

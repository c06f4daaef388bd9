// The VAE's block family, named as in diffusers' unet_2d_blocks.py and
// attention_processor.py: DownEncoderBlock2D, UpDecoderBlock2D,
// UNetMidBlock2D and its single-head spatial Attention (group_norm, to_q,
// to_k, to_v, to_out.0, residual). Module classes: for model .cc files only.
#ifndef DREAMSHOT_MODELS_VAE_VAE_BLOCKS_H_
#define DREAMSHOT_MODELS_VAE_VAE_BLOCKS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <string>

namespace dreamshot::models::vae {

// Called with a label and each block's output, for tests and profiling
// (e.g. checking that tiled decoding never builds a full-size activation).
using ActivationObserver = std::function<void(const std::string& label, const torch::Tensor& activation)>;

// diffusers Attention as the VAE mid block builds it: heads = 1,
// dim_head = channels, bias on every projection, GroupNorm before the
// projections, residual connection, output / rescale_output_factor.
struct VaeAttentionImpl : torch::nn::Module {
  VaeAttentionImpl(int64_t channels, int64_t groups, double eps, double rescale_output_factor = 1.0);
  // x: [B, C, H, W] → [B, C, H, W]
  torch::Tensor forward(const torch::Tensor& x);

  int64_t channels;
  double rescale_output_factor;
  torch::nn::GroupNorm group_norm{nullptr};
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
  torch::nn::ModuleList to_out{nullptr};  // [Linear] (upstream's Dropout has no weights)
};
TORCH_MODULE(VaeAttention);

// resnets.0 → (attentions.0 → resnets.1), no time embedding.
struct UNetMidBlock2DImpl : torch::nn::Module {
  UNetMidBlock2DImpl(int64_t channels, int64_t groups, double eps, bool add_attention = true);
  torch::Tensor forward(const torch::Tensor& x);  // [B, C, H, W] → same

  torch::nn::ModuleList attentions{nullptr};
  torch::nn::ModuleList resnets{nullptr};
};
TORCH_MODULE(UNetMidBlock2D);

// num_layers resnets, then (unless the last block) Downsample2D with
// padding 0: [B, Cin, H, W] → [B, Cout, ceil(H/2), ceil(W/2)].
struct DownEncoderBlock2DImpl : torch::nn::Module {
  DownEncoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers, int64_t groups,
                         double eps, bool add_downsample);
  torch::Tensor forward(torch::Tensor x);  // consumes x when moved in (see ResnetBlock2D)

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList downsamplers{nullptr};  // empty module pointer when absent
};
TORCH_MODULE(DownEncoderBlock2D);

// num_layers resnets, then (unless the last block) nearest ×2 + conv:
// [B, Cin, H, W] → [B, Cout, 2H, 2W].
struct UpDecoderBlock2DImpl : torch::nn::Module {
  UpDecoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers, int64_t groups,
                       double eps, bool add_upsample);
  torch::Tensor forward(torch::Tensor x);  // consumes x when moved in (see ResnetBlock2D)

  torch::nn::ModuleList resnets{nullptr};
  torch::nn::ModuleList upsamplers{nullptr};
};
TORCH_MODULE(UpDecoderBlock2D);

}  // namespace dreamshot::models::vae

#endif  // DREAMSHOT_MODELS_VAE_VAE_BLOCKS_H_

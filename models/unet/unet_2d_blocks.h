// The UNet's down, mid and up blocks as in diffusers' unet_2d_blocks.py.
// One class covers CrossAttnDownBlock2D and DownBlock2D (attentions present
// or not), one covers CrossAttnUpBlock2D and UpBlock2D; the mid block is
// UNetMidBlock2DCrossAttn. Names: resnets.N, attentions.N,
// downsamplers.0.conv, upsamplers.0.conv. Module classes: for model .cc files only.
#ifndef DREAMSHOT_MODELS_UNET_UNET_2D_BLOCKS_H_
#define DREAMSHOT_MODELS_UNET_UNET_2D_BLOCKS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <vector>

#include "models/blocks/resnet.h"
#include "models/unet/transformer_2d.h"

namespace dreamshot::models::unet {

// What a block needs besides its channel counts.
struct BlockOptions {
  int64_t num_layers = 2;             // resnets (down/mid: layers_per_block; up: +1)
  bool cross_attention = true;        // CrossAttn*Block2D vs *Block2D
  int64_t transformer_layers = 1;     // BasicTransformerBlocks per attention
  int64_t heads = 8;                  // attention heads (head dim = channels / heads)
  int64_t cross_attention_dim = 768;
  int64_t temb_channels = 1280;
  int64_t groups = 32;
  double eps = 1e-5;
  bool use_linear_projection = false;
  bool only_cross_attention = false;
  bool upcast_attention = false;
  double output_scale_factor = 1.0;
};

// Shared by the blocks: run a resnet / attention, recomputed in backward
// when `checkpoint` is set (and grad mode is on).
at::Tensor RunResnet(ResnetBlock2DImpl& resnet, const at::Tensor& x, const at::Tensor& temb, bool checkpoint);
at::Tensor RunAttention(Transformer2DModelImpl& attn, const at::Tensor& x, const at::Tensor& context,
                        bool checkpoint);

struct DownBlockOutput {
  at::Tensor hidden;                // [B, Cout, H', W'] (H' = ceil(H/2) after a downsampler)
  std::vector<at::Tensor> skips;    // one per resnet, plus the downsampler output
};

struct UNetDownBlockImpl : torch::nn::Module {
  UNetDownBlockImpl(int64_t in_channels, int64_t out_channels, bool add_downsample, int64_t downsample_padding,
                    const BlockOptions& o);
  // x: [B, Cin, H, W], temb: [B, T], context: [B, S, D] (unused without attentions)
  DownBlockOutput forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context);

  bool gradient_checkpointing = false;
  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr}, downsamplers{nullptr};
};
TORCH_MODULE(UNetDownBlock);

// resnet, then (attention, resnet) × num_layers (1).
struct UNetMidBlock2DCrossAttnImpl : torch::nn::Module {
  UNetMidBlock2DCrossAttnImpl(int64_t channels, const BlockOptions& o);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context);

  bool gradient_checkpointing = false;
  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr};
};
TORCH_MODULE(UNetMidBlock2DCrossAttn);

struct UNetUpBlockImpl : torch::nn::Module {
  // in_channels: channels of the deepest skip this block consumes (last
  // resnet); prev_output_channels: channels of the incoming hidden state.
  UNetUpBlockImpl(int64_t in_channels, int64_t prev_output_channels, int64_t out_channels, bool add_upsample,
                  const BlockOptions& o);
  // skips: the last num_layers skips, consumed from the back (cat([h, skip], 1)).
  // upsample_size: the spatial size of the next skip, for odd latent sizes.
  at::Tensor forward(const at::Tensor& x, std::vector<at::Tensor> skips, const at::Tensor& temb,
                     const at::Tensor& context, std::optional<std::vector<int64_t>> upsample_size);

  bool gradient_checkpointing = false;
  torch::nn::ModuleList resnets{nullptr}, attentions{nullptr}, upsamplers{nullptr};
};
TORCH_MODULE(UNetUpBlock);

}  // namespace dreamshot::models::unet

#endif  // DREAMSHOT_MODELS_UNET_UNET_2D_BLOCKS_H_

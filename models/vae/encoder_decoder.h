// diffusers vae.py's Encoder and Decoder (the AutoencoderKL halves).
// Module classes: for model .cc files only; the public API is
// models/vae/autoencoder_kl.h.
#ifndef DREAMSHOT_MODELS_VAE_ENCODER_DECODER_H_
#define DREAMSHOT_MODELS_VAE_ENCODER_DECODER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "models/vae/vae_blocks.h"

namespace dreamshot::models::vae {

struct EncoderDecoderOptions {
  int64_t in_channels = 3;   // encoder: image channels; decoder: latent channels
  int64_t out_channels = 3;  // encoder: 2 × latent (double_z); decoder: image channels
  std::vector<int64_t> block_out_channels = {128, 256, 512, 512};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
  bool mid_block_add_attention = true;
};

// conv_in → down_blocks → mid_block → conv_norm_out → SiLU → conv_out.
// [B, 3, H, W] → [B, 2·latent, H/f, W/f], f = 2^(len(block_out_channels)-1).
struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const EncoderDecoderOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const ActivationObserver* observer = nullptr);

  torch::nn::Conv2d conv_in{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};
  UNetMidBlock2D mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(Encoder);

// conv_in → mid_block → up_blocks (layers_per_block + 1 resnets each) →
// conv_norm_out → SiLU → conv_out. [B, latent, h, w] → [B, 3, h·f, w·f].
struct DecoderImpl : torch::nn::Module {
  explicit DecoderImpl(const EncoderDecoderOptions& options);
  torch::Tensor forward(const torch::Tensor& z, const ActivationObserver* observer = nullptr);

  torch::nn::Conv2d conv_in{nullptr};
  UNetMidBlock2D mid_block{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  torch::nn::Conv2d conv_out{nullptr};
};
TORCH_MODULE(Decoder);

}  // namespace dreamshot::models::vae

#endif  // DREAMSHOT_MODELS_VAE_ENCODER_DECODER_H_

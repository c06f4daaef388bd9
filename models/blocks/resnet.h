// Building blocks shared by the UNet and the VAE, named as in diffusers'
// resnet.py / downsampling.py / upsampling.py: ResnetBlock2D, Downsample2D,
// Upsample2D. Module classes, so this header is for model .cc files only.
#ifndef DREAMSHOT_MODELS_BLOCKS_RESNET_H_
#define DREAMSHOT_MODELS_BLOCKS_RESNET_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>

namespace dreamshot::models {

// Inference (autograd off) reuses buffers: 512² VAE activations are 134 MB
// per tensor, and every fresh one costs page faults and resident memory.
// With autograd on these are the plain out-of-place ops.

// silu(norm(x))
torch::Tensor GroupNormSilu(torch::nn::GroupNormImpl& norm, const torch::Tensor& x);

// a + b, written into `a` when autograd is off (a must be a temporary the
// caller owns, shaped like the result).
torch::Tensor AddIntoTemporary(torch::Tensor a, const torch::Tensor& b);

struct ResnetBlock2DOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t temb_channels = 0;  // 0: no time-embedding projection (VAE)
  int64_t groups = 32;
  double eps = 1e-5;
  double output_scale_factor = 1.0;
};

// x + conv2(silu(norm2(conv1(silu(norm1(x))) + proj(silu(temb))))), with a
// 1×1 conv_shortcut when the channel count changes.
struct ResnetBlock2DImpl : torch::nn::Module {
  explicit ResnetBlock2DImpl(const ResnetBlock2DOptions& options);
  // x: [B, Cin, H, W]; temb: [B, temb_channels] or undefined → [B, Cout, H, W].
  // In inference on large activations, an x passed by std::move (nothing
  // else referencing its memory) is consumed: the output is written into
  // its memory.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& temb = {});
  torch::Tensor ForwardBanded(torch::Tensor x, const torch::Tensor& temb);

  ResnetBlock2DOptions options;
  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv_shortcut{nullptr};
  torch::nn::Linear time_emb_proj{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

// Stride-2 3×3 conv. padding 1 (UNet) pads symmetrically inside the conv;
// padding 0 (VAE) pads right/bottom by one first, as diffusers does.
struct Downsample2DImpl : torch::nn::Module {
  Downsample2DImpl(int64_t channels, int64_t padding);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t padding;
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Downsample2D);

// Nearest-neighbour ×2 (or to `size`, matching a skip connection), then 3×3 conv.
struct Upsample2DImpl : torch::nn::Module {
  explicit Upsample2DImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x, std::optional<std::vector<int64_t>> size = std::nullopt);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

torch::nn::GroupNorm MakeGroupNorm(int64_t groups, int64_t channels, double eps);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_BLOCKS_RESNET_H_

// UNet2DConditionModel as in diffusers 0.25 (unet_2d_condition.py), the
// Stable Diffusion 1.x / 2.x denoiser: sinusoidal timestep embedding →
// TimestepEmbedding, conv_in, down blocks (skips), mid block, up blocks
// (consuming the skips), conv_norm_out → SiLU → conv_out. Parameter names
// equal the diffusers state-dict keys ("down_blocks.0.attentions.1.
// transformer_blocks.0.attn2.to_k.weight"), so checkpoints load 1:1.
// The header holds no torch module classes (pimpl); module() exposes the
// root module for LoRA patching and optimisers.
#ifndef DREAMSHOT_MODELS_UNET_UNET_2D_CONDITION_H_
#define DREAMSHOT_MODELS_UNET_UNET_2D_CONDITION_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/json_config.h"
#include "models/expected_tensors.h"
#include "models/state_dict.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models::unet {

// Defaults: Stable Diffusion 1.5. Only the options SD 1.x/2.x use are
// supported; FromJson rejects the rest with INVALID_ARGUMENT naming the key.
struct UNetConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  bool center_input_sample = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0;
  std::vector<std::string> down_block_types = {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                               "CrossAttnDownBlock2D", "DownBlock2D"};
  std::vector<std::string> up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                             "CrossAttnUpBlock2D"};
  std::vector<int64_t> block_out_channels = {320, 640, 1280, 1280};
  // Per down block (an int in config.json applies to every block).
  std::vector<int64_t> layers_per_block = {2, 2, 2, 2};
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1;
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  int64_t cross_attention_dim = 768;
  std::vector<int64_t> transformer_layers_per_block = {1, 1, 1, 1};
  // diffusers' historical naming: `attention_head_dim` holds the number of
  // heads per block (head dim = channels / heads); `num_attention_heads`
  // must be null in 0.25 (it raises otherwise), and so it is here.
  std::vector<int64_t> attention_head_dim = {8, 8, 8, 8};
  std::vector<bool> only_cross_attention = {false, false, false, false};
  bool use_linear_projection = false;
  bool upcast_attention = false;
  int64_t conv_in_kernel = 3;
  int64_t conv_out_kernel = 3;
  int64_t time_embedding_dim = 0;  // 0: 4 · block_out_channels[0]

  // Heads of down block i (the mid block uses the last, up block i the reversed list).
  int64_t heads(size_t block) const { return attention_head_dim[block]; }
  int64_t time_embed_dim() const { return time_embedding_dim > 0 ? time_embedding_dim : 4 * block_out_channels[0]; }

  // Reads a diffusers UNet2DConditionModel config.json.
  static absl::StatusOr<UNetConfig> FromJson(const core::JsonConfig& json);
  // Consistency of the fields (list lengths, divisibility, block types) and
  // their ranges (models/config_limits.h), naming the key.
  absl::Status Validate() const;
};

class UNet2DConditionModel {
 public:
  using Config = UNetConfig;
  // Randomly initialised module on `spec`'s device and dtype.
  static absl::StatusOr<std::unique_ptr<UNet2DConditionModel>> Create(const UNetConfig& config,
                                                                      const core::DeviceSpec& spec);
  ~UNet2DConditionModel();

  // The parameters and buffers Create(config) registers, by name and shape,
  // computed without building anything (unet_expected_weights.cc).
  static ExpectedTensors ExpectedWeights(const UNetConfig& config);

  absl::Status LoadWeights(const TensorMap& tensors, const std::string& source);

  // sample: [B, in_channels, H, W]; timestep: 0-dim (broadcast to the batch)
  // or [B], integer or floating point; encoder_hidden_states:
  // [B, S, cross_attention_dim] → [B, out_channels, H, W] in the spec dtype.
  // Inputs are moved to the model's device and dtype. Autograd follows the
  // caller's grad mode: wrap inference in torch::NoGradGuard.
  absl::StatusOr<at::Tensor> Forward(const at::Tensor& sample, const at::Tensor& timestep,
                                     const at::Tensor& encoder_hidden_states);

  // time_embedding(time_proj(timesteps)) for timesteps [N] → [N, time_embed_dim].
  absl::StatusOr<at::Tensor> TimeEmbedding(const at::Tensor& timesteps);

  // Recompute each resnet and transformer in backward instead of storing
  // their activations (diffusers' enable_gradient_checkpointing). Takes
  // effect only while grad mode is on.
  void SetGradientCheckpointing(bool enabled);
  bool gradient_checkpointing() const { return gradient_checkpointing_; }

  int64_t NumParameters() const;
  const UNetConfig& config() const { return config_; }
  const core::DeviceSpec& device_spec() const { return spec_; }
  torch::nn::Module& module();

 private:
  struct Impl;
  UNet2DConditionModel(UNetConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl);
  UNetConfig config_;
  core::DeviceSpec spec_;
  bool gradient_checkpointing_ = false;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dreamshot::models::unet

#endif  // DREAMSHOT_MODELS_UNET_UNET_2D_CONDITION_H_

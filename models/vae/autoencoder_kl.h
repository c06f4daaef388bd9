// diffusers AutoencoderKL (Stable Diffusion's VAE): Encode an image in
// [-1, 1] to a diagonal Gaussian over latents, Decode latents to an image.
// Parameter names equal the diffusers state-dict keys ("encoder.down_blocks.
// 0.resnets.1.conv1.weight", "decoder.mid_block.attentions.0.to_q.weight",
// "quant_conv.weight"), so checkpoints load 1:1.
//
// Tiling (diffusers' enable_tiling / tiled_encode / tiled_decode): inputs
// larger than a tile are processed in overlapping tiles (stride = tile ·
// (1 - overlap)) whose seams are blended linearly over tile · overlap
// pixels, so peak memory follows the tile, not the image.
#ifndef DREAMSHOT_MODELS_VAE_AUTOENCODER_KL_H_
#define DREAMSHOT_MODELS_VAE_AUTOENCODER_KL_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <functional>
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

namespace dreamshot::models::vae {

// Defaults: Stable Diffusion 1.x's VAE.
struct VaeConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  int64_t latent_channels = 4;
  std::vector<int64_t> block_out_channels = {128, 256, 512, 512};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
  int64_t sample_size = 512;  // also the default tile size in pixels
  double scaling_factor = 0.18215;
  std::string act_fn = "silu";  // the only one supported
  bool mid_block_add_attention = true;
  bool force_upcast = true;  // informational: pipelines decode fp16 models in fp32

  // Reads a diffusers AutoencoderKL config.json. Block types other than
  // DownEncoderBlock2D / UpDecoderBlock2D, act_fn other than silu, and
  // options this model does not implement (latents_mean/std,
  // use_quant_conv false, ...) are INVALID_ARGUMENT naming the key.
  static absl::StatusOr<VaeConfig> FromJson(const core::JsonConfig& json);
  // Ranges (models/config_limits.h) and divisibility, naming the key.
  absl::Status Validate() const;

  // 2^(len(block_out_channels) - 1): 8 for SD.
  int64_t downscale_factor() const;
};

// DiagonalGaussianDistribution of diffusers: moments = [mean, logvar].
struct LatentDistribution {
  at::Tensor mean;    // [B, latent, H/f, W/f]
  at::Tensor logvar;  // clamped to [-30, 20]
  at::Tensor std;     // exp(0.5 · logvar)

  // mean + std · ε, ε drawn in float32 on the CPU from `generator` (a CPU
  // generator, e.g. at::detail::createCPUGenerator(seed)) and then moved to
  // the mean's device/dtype, so a seed gives the same latents on every device.
  absl::StatusOr<at::Tensor> Sample(at::Generator& generator) const;
  const at::Tensor& Mode() const { return mean; }
};

struct VaeTiling {
  bool enabled = false;
  int64_t tile_sample_size = 0;  // pixels; 0: config.sample_size
  double overlap_factor = 0.25;
};

class AutoencoderKL {
 public:
  using Config = VaeConfig;
  // Random-initialised module on `spec`'s device and dtype.
  static absl::StatusOr<std::unique_ptr<AutoencoderKL>> Create(const VaeConfig& config,
                                                               const core::DeviceSpec& spec);
  ~AutoencoderKL();

  // The parameters and buffers Create(config) registers, by name and shape,
  // computed without building anything (vae_expected_weights.cc).
  static ExpectedTensors ExpectedWeights(const VaeConfig& config);

  absl::Status LoadWeights(const TensorMap& tensors, const std::string& source);

  // image: [B, in_channels, H, W] in [-1, 1] (H, W normally multiples of
  // downscale_factor()). Tiled when tiling is enabled and H or W exceeds the tile.
  absl::StatusOr<LatentDistribution> Encode(const at::Tensor& image);
  // latents: [B, latent, h, w] (already divided by scaling_factor) →
  // [B, out_channels, h·f, w·f], roughly in [-1, 1]. Tiled when tiling is
  // enabled and h or w exceeds the latent tile.
  absl::StatusOr<at::Tensor> Decode(const at::Tensor& latents);

  void set_tiling(const VaeTiling& tiling) { tiling_ = tiling; }
  // Slicing (diffusers' enable_slicing): a batch is encoded and decoded one
  // sample at a time, so activation memory does not grow with the batch.
  void set_slicing(bool slicing) { slicing_ = slicing; }
  bool slicing() const { return slicing_; }
  const VaeTiling& tiling() const { return tiling_; }
  int64_t tile_sample_size() const;  // in pixels
  int64_t tile_latent_size() const;  // tile_sample_size / downscale_factor

  // Called with each encoder/decoder block's output (label, tensor); empty
  // to switch off. For tests and memory profiling.
  using ActivationObserver = std::function<void(const std::string& label, const at::Tensor& activation)>;
  void set_activation_observer(ActivationObserver observer) { observer_ = std::move(observer); }

  double scaling_factor() const { return config_.scaling_factor; }
  const VaeConfig& config() const { return config_; }
  const core::DeviceSpec& device_spec() const { return spec_; }
  torch::nn::Module& module();

 private:
  struct Impl;
  AutoencoderKL(VaeConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl);
  // run(batch), or run on each sample and concatenated when slicing.
  at::Tensor BySample(const at::Tensor& batch, const std::function<at::Tensor(const at::Tensor&)>& run) const;
  at::Tensor EncodeMoments(const at::Tensor& x);  // [B, 2·latent, h, w], untiled
  at::Tensor DecodeUntiled(const at::Tensor& z);
  at::Tensor TiledEncodeMoments(const at::Tensor& x);
  at::Tensor TiledDecode(const at::Tensor& z);

  VaeConfig config_;
  core::DeviceSpec spec_;
  VaeTiling tiling_;
  bool slicing_ = false;
  ActivationObserver observer_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dreamshot::models::vae

#endif  // DREAMSHOT_MODELS_VAE_AUTOENCODER_KL_H_

// CLIPVisionModel as in transformers: patch embedding (a strided conv
// without bias), a learnt class embedding and position embeddings,
// pre_layrnorm (sic, the upstream name), the pre-LN encoder layers of the
// text tower without a mask, and post_layernorm on the class token.
// Parameter names are the upstream state-dict keys ("vision_model.encoder.
// layers.0.self_attn.q_proj.weight"). Inference only: Forward records no
// graph.
#ifndef DREAMSHOT_MODELS_CLIP_VISION_MODEL_H_
#define DREAMSHOT_MODELS_CLIP_VISION_MODEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/json_config.h"
#include "models/clip/clip_encoder_shape.h"
#include "models/expected_tensors.h"
#include "models/state_dict.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models::clip {

// Defaults: ViT-B/32 (openai/clip-vit-base-patch32). ViT-B/16: patch 16;
// ViT-L/14: hidden 1024, intermediate 4096, 24 layers, 16 heads, patch 14.
struct ClipVisionConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t image_size = 224;
  int64_t patch_size = 32;
  int64_t num_channels = 3;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;

  int64_t grid() const { return image_size / patch_size; }  // patches per side (floor, as the conv)
  int64_t num_positions() const { return grid() * grid() + 1; }
  ClipEncoderShape encoder_shape() const {
    return {hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, layer_norm_eps};
  }

  // A CLIPVisionConfig config.json, or the vision part of a CLIPModel one
  // (models/clip/tower_config.h) when the file has one.
  static absl::StatusOr<ClipVisionConfig> FromJson(const core::JsonConfig& json);
  absl::Status Validate() const;
};

struct ClipVisionOutput {
  at::Tensor last_hidden_state;  // [B, 1 + patches, H], the encoder's output
  at::Tensor pooler_output;      // [B, H], post_layernorm of the class token
};


class ClipVisionModel {
 public:
  using Config = ClipVisionConfig;
  static absl::StatusOr<std::unique_ptr<ClipVisionModel>> Create(const ClipVisionConfig& config,
                                                                 const core::DeviceSpec& spec);
  ~ClipVisionModel();

  // position_ids is optional: transformers >= 4.31 no longer saves it.
  static ExpectedTensors ExpectedWeights(const ClipVisionConfig& config);
  absl::Status LoadWeights(const TensorMap& tensors, const std::string& source);

  // pixel_values: [B, num_channels, image_size, image_size], normalised
  // (evaluator/image_preprocess.h); converted to the model's dtype.
  absl::StatusOr<ClipVisionOutput> Forward(const at::Tensor& pixel_values);

  // The formulation of transformers in eager PyTorch instead of ours
  // (models/blocks/pre_ln_layer.h), for //bench:encoder_benchmark.
  void set_stock_path_for_comparison(bool stock) { stock_path_ = stock; }

  const ClipVisionConfig& config() const { return config_; }
  const core::DeviceSpec& device_spec() const { return spec_; }
  torch::nn::Module& module();

 private:
  struct Impl;
  ClipVisionModel(ClipVisionConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl);
  ClipVisionConfig config_;
  core::DeviceSpec spec_;
  std::unique_ptr<Impl> impl_;
  bool stock_path_ = false;
};

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_VISION_MODEL_H_

// ViTModel as in transformers (add_pooling_layer=False), the layout of
// facebook/dino-vits16: patch embedding (strided conv with bias), a class
// token and learnt position embeddings, pre-LN layers (exact GELU by
// default), a final layernorm; the image embedding is the class token of
// last_hidden_state. Parameter names are the upstream keys
// ("encoder.layer.0.attention.attention.query.weight"). The original DINO
// checkpoints (facebookresearch/dino's `.pth`, timm-style names with a
// fused qkv) load too: models/vit/vit_loading.h. Inference only.
#ifndef DREAMSHOT_MODELS_VIT_VIT_MODEL_H_
#define DREAMSHOT_MODELS_VIT_VIT_MODEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/json_config.h"
#include "models/blocks/encoder_shape.h"
#include "models/expected_tensors.h"
#include "models/state_dict.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models::vit {

// Defaults: transformers' ViTConfig (ViT-B/16). DinoVitS16() is
// facebook/dino-vits16.
struct ViTConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t num_channels = 3;
  bool qkv_bias = true;
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-12;

  static ViTConfig DinoVitS16();

  int64_t grid() const { return image_size / patch_size; }
  int64_t num_positions() const { return grid() * grid() + 1; }
  blocks::EncoderShape encoder_shape() const {
    return {hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, layer_norm_eps};
  }

  static absl::StatusOr<ViTConfig> FromJson(const core::JsonConfig& json);
  absl::Status Validate() const;
};

struct ViTOutput {
  at::Tensor last_hidden_state;  // [B, 1 + patches, H], after the final layernorm
  at::Tensor cls;                // [B, H] = last_hidden_state[:, 0]
};

class ViTModel {
 public:
  using Config = ViTConfig;
  static absl::StatusOr<std::unique_ptr<ViTModel>> Create(const ViTConfig& config, const core::DeviceSpec& spec);
  ~ViTModel();

  static ExpectedTensors ExpectedWeights(const ViTConfig& config);
  // Exactly the ExpectedWeights names (vit_loading.h maps other layouts).
  absl::Status LoadWeights(const TensorMap& tensors, const std::string& source);

  // pixel_values: [B, num_channels, image_size, image_size], normalised.
  absl::StatusOr<ViTOutput> Forward(const at::Tensor& pixel_values);

  // The formulation of transformers in eager PyTorch instead of ours
  // (models/blocks/pre_ln_layer.h), for //bench:encoder_benchmark.
  void set_stock_path_for_comparison(bool stock) { stock_path_ = stock; }

  const ViTConfig& config() const { return config_; }
  const core::DeviceSpec& device_spec() const { return spec_; }
  torch::nn::Module& module();

 private:
  struct Impl;
  ViTModel(ViTConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl);
  ViTConfig config_;
  core::DeviceSpec spec_;
  std::unique_ptr<Impl> impl_;
  bool stock_path_ = false;
};

}  // namespace dreamshot::models::vit

#endif  // DREAMSHOT_MODELS_VIT_VIT_MODEL_H_

// CLIPTextModel as in transformers (the text tower Stable Diffusion uses):
// token + position embeddings, pre-LayerNorm transformer layers with causal
// self-attention, final LayerNorm, pooled output at the end-of-text token.
// Parameter names equal the upstream state-dict keys ("text_model.encoder.
// layers.0.self_attn.q_proj.weight"), so checkpoints load 1:1.
#ifndef DREAMSHOT_MODELS_CLIP_TEXT_MODEL_H_
#define DREAMSHOT_MODELS_CLIP_TEXT_MODEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

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

// Defaults: the ViT-L/14 text tower of Stable Diffusion 1.x.
struct ClipTextConfig {
  int64_t vocab_size = 49408;
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t max_position_embeddings = 77;
  std::string hidden_act = "quick_gelu";  // quick_gelu, gelu, gelu_new, gelu_pytorch_tanh
  double layer_norm_eps = 1e-5;
  // 2 (transformers' old default) means "pool at the highest token id", as
  // older transformers did; otherwise pool at the first eos_token_id.
  int64_t eos_token_id = 2;

  // The layer stack's sizes (models/clip/clip_encoder.h).
  ClipEncoderShape encoder_shape() const {
    return {hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, layer_norm_eps};
  }

  // Reads a transformers CLIPTextConfig config.json (or the text_config of a
  // CLIPModel config).
  static absl::StatusOr<ClipTextConfig> FromJson(const core::JsonConfig& json);
  // Ranges (models/config_limits.h), head divisibility and the activation,
  // naming the key.
  absl::Status Validate() const;
};

struct ClipTextOutput {
  at::Tensor last_hidden_state;  // [B, L, H], after the final LayerNorm
  at::Tensor pooler_output;      // [B, H]
  // With output_hidden_states: embeddings output, then each layer's output
  // (before the final LayerNorm); [-2] is the "clip skip" penultimate layer.
  std::vector<at::Tensor> hidden_states;
};

class ClipTextModel {
 public:
  using Config = ClipTextConfig;
  // Random-initialised module on `spec`'s device and dtype.
  static absl::StatusOr<std::unique_ptr<ClipTextModel>> Create(const ClipTextConfig& config,
                                                               const core::DeviceSpec& spec);
  ~ClipTextModel();

  // The parameters and buffers Create(config) registers, by name and shape,
  // computed without building anything (text_model_expected_weights.cc).
  // position_ids is optional: transformers >= 4.31 no longer saves it.
  static ExpectedTensors ExpectedWeights(const ClipTextConfig& config);

  absl::Status LoadWeights(const TensorMap& tensors, const std::string& source);

  // input_ids: [B, L] int64, L <= max_position_embeddings. No attention mask,
  // as Stable Diffusion calls it. Autograd follows the caller's grad mode,
  // so that text-encoder LoRA can train through it: wrap inference in
  // torch::NoGradGuard (generation does), or the graph of every call is kept
  // for as long as its outputs live.
  absl::StatusOr<ClipTextOutput> Forward(const at::Tensor& input_ids, bool output_hidden_states = false);
  // The final LayerNorm alone: "clip skip" takes an earlier hidden state
  // through it, as diffusers does. Follows the caller's grad mode, as Forward.
  absl::StatusOr<at::Tensor> FinalLayerNorm(const at::Tensor& hidden);

  const ClipTextConfig& config() const { return config_; }
  const core::DeviceSpec& device_spec() const { return spec_; }
  torch::nn::Module& module();

 private:
  struct Impl;
  ClipTextModel(ClipTextConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl);
  ClipTextConfig config_;
  core::DeviceSpec spec_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_TEXT_MODEL_H_

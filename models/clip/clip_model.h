// CLIPModel as in transformers: the text tower (models/clip/text_model.h),
// the vision tower (models/clip/vision_model.h), visual_projection and
// text_projection (Linear without bias) and logit_scale. Loads a CLIPModel
// folder (config.json with text_config + vision_config; model.safetensors
// or pytorch_model.bin) with the upstream key names through
// models/load_model.h. Inference only: nothing records a graph.
#ifndef DREAMSHOT_MODELS_CLIP_CLIP_MODEL_H_
#define DREAMSHOT_MODELS_CLIP_CLIP_MODEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/json_config.h"
#include "models/clip/text_model.h"
#include "models/clip/vision_model.h"
#include "models/expected_tensors.h"
#include "models/state_dict.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models::clip {

// Defaults: openai/clip-vit-base-patch32 (text 512 wide, 8 heads; vision ViT-B/32; projection 512).
struct ClipModelConfig {
  ClipTextConfig text = DefaultText();
  ClipVisionConfig vision;
  int64_t projection_dim = 512;
  double logit_scale_init_value = 2.6592;  // ln(1 / 0.07)

  static ClipTextConfig DefaultText();
  // The three published shapes the benchmarks and tests build.
  static ClipModelConfig VitB32();
  static ClipModelConfig VitB16();
  static ClipModelConfig VitL14();

  // A CLIPModel config.json: the text and vision parts
  // (models/clip/tower_config.h), projection_dim, logit_scale_init_value.
  static absl::StatusOr<ClipModelConfig> FromJson(const core::JsonConfig& json);
  absl::Status Validate() const;
};

struct ClipModelOutput {
  at::Tensor image_embeds;      // [n_img, P], L2-normalised
  at::Tensor text_embeds;       // [n_txt, P], L2-normalised
  at::Tensor logits_per_image;  // [n_img, n_txt] = exp(logit_scale) · cosine
  at::Tensor logits_per_text;   // its transpose
};

class ClipModel {
 public:
  using Config = ClipModelConfig;
  static absl::StatusOr<std::unique_ptr<ClipModel>> Create(const ClipModelConfig& config,
                                                           const core::DeviceSpec& spec);
  ~ClipModel();

  static ExpectedTensors ExpectedWeights(const ClipModelConfig& config);
  absl::Status LoadWeights(const TensorMap& tensors, const std::string& source);

  // visual_projection(pooled vision output) and text_projection(pooled text
  // output), unnormalised: transformers' get_image_features / get_text_features.
  absl::StatusOr<at::Tensor> GetImageFeatures(const at::Tensor& pixel_values);
  absl::StatusOr<at::Tensor> GetTextFeatures(const at::Tensor& input_ids);
  // Both towers, normalised embeddings and logits (CLIPModel.forward).
  absl::StatusOr<ClipModelOutput> Forward(const at::Tensor& input_ids, const at::Tensor& pixel_values);

  // x / ‖x‖₂ over the last dimension, as CLIPModel.forward normalises.
  static at::Tensor Normalize(const at::Tensor& features);
  // exp(logit_scale): 100 for the published models.
  double LogitScaleExp() const;

  void set_stock_path_for_comparison(bool stock) { vision_->set_stock_path_for_comparison(stock); }

  const ClipModelConfig& config() const { return config_; }
  const core::DeviceSpec& device_spec() const { return spec_; }
  ClipTextModel& text() { return *text_; }
  ClipVisionModel& vision() { return *vision_; }
  // Every parameter under its upstream name (text_model.*, vision_model.*,
  // visual_projection.weight, text_projection.weight, logit_scale).
  torch::nn::Module& module();

 private:
  struct Impl;
  ClipModel(ClipModelConfig config, core::DeviceSpec spec, std::unique_ptr<ClipTextModel> text,
            std::unique_ptr<ClipVisionModel> vision, std::unique_ptr<Impl> impl);
  ClipModelConfig config_;
  core::DeviceSpec spec_;
  std::unique_ptr<ClipTextModel> text_;
  std::unique_ptr<ClipVisionModel> vision_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_CLIP_MODEL_H_

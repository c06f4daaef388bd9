#include "models/clip/clip_model.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "models/clip/tower_config.h"
#include "models/config_limits.h"

namespace dreamshot::models::clip {
namespace {

// Shares the towers' modules (no copies), so that one state dict with the
// upstream names loads everything and the tiny-model writer sees every tensor.
struct ClipModelRootImpl : torch::nn::Module {
  ClipModelRootImpl(const ClipModelConfig& c, torch::nn::Module& text_root, torch::nn::Module& vision_root) {
    text_model = register_module("text_model", text_root.named_children()["text_model"]);
    vision_model = register_module("vision_model", vision_root.named_children()["vision_model"]);
    visual_projection = register_module(
        "visual_projection",
        torch::nn::Linear(torch::nn::LinearOptions(c.vision.hidden_size, c.projection_dim).bias(false)));
    text_projection = register_module(
        "text_projection", torch::nn::Linear(torch::nn::LinearOptions(c.text.hidden_size, c.projection_dim).bias(false)));
    logit_scale = register_parameter("logit_scale", torch::tensor(c.logit_scale_init_value, torch::kFloat));
  }
  std::shared_ptr<torch::nn::Module> text_model, vision_model;
  torch::nn::Linear visual_projection{nullptr}, text_projection{nullptr};
  at::Tensor logit_scale;
};
TORCH_MODULE(ClipModelRoot);

}  // namespace

struct ClipModel::Impl {
  ClipModelRoot root{nullptr};
};

ClipTextConfig ClipModelConfig::DefaultText() {
  ClipTextConfig t;
  t.hidden_size = 512;
  t.intermediate_size = 2048;
  t.num_attention_heads = 8;
  return t;
}

ClipModelConfig ClipModelConfig::VitB32() { return ClipModelConfig{}; }

ClipModelConfig ClipModelConfig::VitB16() {
  ClipModelConfig c;
  c.vision.patch_size = 16;
  return c;
}

ClipModelConfig ClipModelConfig::VitL14() {
  ClipModelConfig c;
  c.text = ClipTextConfig{};  // 768 wide, 12 heads: Stable Diffusion 1.x's text encoder
  c.vision.hidden_size = 1024;
  c.vision.intermediate_size = 4096;
  c.vision.num_hidden_layers = 24;
  c.vision.num_attention_heads = 16;
  c.vision.patch_size = 14;
  c.projection_dim = 768;
  return c;
}

absl::StatusOr<ClipModelConfig> ClipModelConfig::FromJson(const core::JsonConfig& json) {
  ClipModelConfig c;
  ASSIGN_OR_RETURN(core::JsonConfig text, TowerConfig(json, "text"));
  ASSIGN_OR_RETURN(core::JsonConfig vision, TowerConfig(json, "vision"));
  ASSIGN_OR_RETURN(c.text, ClipTextConfig::FromJson(text));
  ASSIGN_OR_RETURN(c.vision, ClipVisionConfig::FromJson(vision));
  ASSIGN_OR_RETURN(c.projection_dim, json.Int("projection_dim", c.projection_dim));
  ASSIGN_OR_RETURN(c.logit_scale_init_value, json.Double("logit_scale_init_value", c.logit_scale_init_value));
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  return c;
}

absl::Status ClipModelConfig::Validate() const {
  RETURN_IF_ERROR(text.Validate());
  RETURN_IF_ERROR(vision.Validate());
  RETURN_IF_ERROR(core::CheckIntRange("projection_dim", projection_dim, 1, kMaxChannels));
  return core::CheckNumberRange("logit_scale_init_value", logit_scale_init_value, -100, 100);
}

ExpectedTensors ClipModel::ExpectedWeights(const ClipModelConfig& c) {
  // The towers' keys live in text_config / vision_config of this file.
  ExpectedTensors out;
  const std::pair<const char*, ExpectedTensors> towers[] = {
      {"text_config.", ClipTextModel::ExpectedWeights(c.text)},
      {"vision_config.", ClipVisionModel::ExpectedWeights(c.vision)},
  };
  for (const auto& [prefix, tower] : towers) {
    for (const auto& [name, t] : tower.tensors()) {
      std::vector<std::string> keys = absl::StrSplit(t.keys, ", ");
      for (std::string& key : keys) key = prefix + key;
      out.Add(name, t.shape, absl::StrJoin(keys, ", "), t.optional);
    }
  }
  out.Linear("visual_projection", c.vision.hidden_size, c.projection_dim,
             "vision_config.hidden_size, projection_dim", /*bias=*/false);
  out.Linear("text_projection", c.text.hidden_size, c.projection_dim, "text_config.hidden_size, projection_dim",
             /*bias=*/false);
  out.Add("logit_scale", {}, "logit_scale_init_value");
  return out;
}

ClipModel::ClipModel(ClipModelConfig config, core::DeviceSpec spec, std::unique_ptr<ClipTextModel> text,
                     std::unique_ptr<ClipVisionModel> vision, std::unique_ptr<Impl> impl)
    : config_(std::move(config)),
      spec_(spec),
      text_(std::move(text)),
      vision_(std::move(vision)),
      impl_(std::move(impl)) {}
ClipModel::~ClipModel() = default;

absl::StatusOr<std::unique_ptr<ClipModel>> ClipModel::Create(const ClipModelConfig& config,
                                                             const core::DeviceSpec& spec) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(CheckModelSize(ExpectedWeights(config), "a CLIP model"));
  ASSIGN_OR_RETURN(std::unique_ptr<ClipTextModel> text, ClipTextModel::Create(config.text, spec));
  ASSIGN_OR_RETURN(std::unique_ptr<ClipVisionModel> vision, ClipVisionModel::Create(config.vision, spec));
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = ClipModelRoot(config, text->module(), vision->module());
    impl->root->visual_projection->to(spec.device, spec.dtype);
    impl->root->text_projection->to(spec.device, spec.dtype);
    impl->root->logit_scale.set_data(impl->root->logit_scale.to(spec.device, spec.dtype));
    impl->root->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot build the CLIP model on ", spec.ToString(), ": ",
                                            e.what_without_backtrace()));
  }
  return std::unique_ptr<ClipModel>(new ClipModel(config, spec, std::move(text), std::move(vision), std::move(impl)));
}

torch::nn::Module& ClipModel::module() { return *impl_->root; }

absl::Status ClipModel::LoadWeights(const TensorMap& tensors, const std::string& source) {
  LoadOptions options;
  // transformers >= 4.31 no longer saves position_ids; older files have them.
  options.optional_keys = {"text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"};
  try {
    return LoadStateDict(*impl_->root, tensors, source, options);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading ", source, ": ", e.what_without_backtrace()));
  }
}

at::Tensor ClipModel::Normalize(const at::Tensor& features) {
  return features / features.norm(2, /*dim=*/{-1}, /*keepdim=*/true);
}

double ClipModel::LogitScaleExp() const { return std::exp(impl_->root->logit_scale.item<double>()); }

absl::StatusOr<at::Tensor> ClipModel::GetImageFeatures(const at::Tensor& pixel_values) {
  ASSIGN_OR_RETURN(ClipVisionOutput vision, vision_->Forward(pixel_values));
  try {
    torch::NoGradGuard no_grad;
    return impl_->root->visual_projection(vision.pooler_output);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("CLIP visual_projection failed: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<at::Tensor> ClipModel::GetTextFeatures(const at::Tensor& input_ids) {
  torch::NoGradGuard no_grad;
  ASSIGN_OR_RETURN(ClipTextOutput text, text_->Forward(input_ids));
  try {
    return impl_->root->text_projection(text.pooler_output);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("CLIP text_projection failed: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<ClipModelOutput> ClipModel::Forward(const at::Tensor& input_ids, const at::Tensor& pixel_values) {
  ASSIGN_OR_RETURN(at::Tensor image_features, GetImageFeatures(pixel_values));
  ASSIGN_OR_RETURN(at::Tensor text_features, GetTextFeatures(input_ids));
  torch::NoGradGuard no_grad;
  ClipModelOutput out;
  out.image_embeds = Normalize(image_features);
  out.text_embeds = Normalize(text_features);
  out.logits_per_text = torch::matmul(out.text_embeds, out.image_embeds.t()) * impl_->root->logit_scale.exp();
  out.logits_per_image = out.logits_per_text.t();
  return out;
}

}  // namespace dreamshot::models::clip

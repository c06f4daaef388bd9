#include "models/clip/vision_model.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "models/blocks/pre_ln_layer.h"
#include "models/blocks/vision_config_keys.h"
#include "models/clip/clip_encoder.h"
#include "models/config_limits.h"
#include "models/clip/tower_config.h"

namespace dreamshot::models::clip {
namespace {

torch::nn::LayerNorm MakeLayerNorm(const ClipVisionConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

struct ClipVisionEmbeddingsImpl : torch::nn::Module {
  explicit ClipVisionEmbeddingsImpl(const ClipVisionConfig& c) {
    class_embedding = register_parameter("class_embedding", torch::empty({c.hidden_size}));
    patch_embedding = register_module(
        "patch_embedding", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size)
                                                 .stride(c.patch_size)
                                                 .bias(false)));
    position_embedding = register_module("position_embedding", torch::nn::Embedding(c.num_positions(), c.hidden_size));
    position_ids = register_buffer("position_ids", torch::arange(c.num_positions()).unsqueeze(0));
  }
  // pixel_values: [B, C, S, S] → [B, 1 + g², H]
  at::Tensor forward(const at::Tensor& pixel_values) {
    const int64_t b = pixel_values.size(0);
    at::Tensor patches = patch_embedding(pixel_values).flatten(2).transpose(1, 2);  // [B, g², H]
    at::Tensor cls = class_embedding.view({1, 1, -1}).expand({b, 1, class_embedding.size(0)});
    return torch::cat({cls, patches}, 1) + position_embedding(position_ids);
  }
  at::Tensor class_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  at::Tensor position_ids;
};
TORCH_MODULE(ClipVisionEmbeddings);

struct ClipVisionTransformerImpl : torch::nn::Module {
  ClipVisionTransformerImpl(const ClipVisionConfig& c, blocks::ActivationFn act) {
    embeddings = register_module("embeddings", ClipVisionEmbeddings(c));
    pre_layrnorm = register_module("pre_layrnorm", MakeLayerNorm(c));
    encoder = register_module("encoder", ClipEncoder(c.encoder_shape(), act));
    post_layernorm = register_module("post_layernorm", MakeLayerNorm(c));
  }
  ClipVisionEmbeddings embeddings{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr};
  ClipEncoder encoder{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
};
TORCH_MODULE(ClipVisionTransformer);

// The top module only adds the "vision_model." prefix of upstream names.
struct ClipVisionRootImpl : torch::nn::Module {
  ClipVisionRootImpl(const ClipVisionConfig& c, blocks::ActivationFn act) {
    vision_model = register_module("vision_model", ClipVisionTransformer(c, act));
  }
  ClipVisionTransformer vision_model{nullptr};
};
TORCH_MODULE(ClipVisionRoot);

}  // namespace

struct ClipVisionModel::Impl {
  ClipVisionRoot root{nullptr};
};

absl::StatusOr<ClipVisionConfig> ClipVisionConfig::FromJson(const core::JsonConfig& file) {
  core::JsonConfig json = file;
  absl::StatusOr<core::JsonConfig> tower = TowerConfig(file, "vision");
  if (tower.ok()) {
    json = *std::move(tower);
  } else if (!absl::IsNotFound(tower.status())) {
    return tower.status();
  }
  ClipVisionConfig c;
  RETURN_IF_ERROR(blocks::ReadVisionTransformerKeys(json, /*sizes_required=*/true, c));
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  return c;
}

absl::Status ClipVisionConfig::Validate() const {
  return blocks::ValidateVisionTransformer(encoder_shape(), image_size, patch_size, num_channels, hidden_act);
}

ExpectedTensors ClipVisionModel::ExpectedWeights(const ClipVisionConfig& c) {
  ExpectedTensors out;
  const int64_t h = c.hidden_size;
  out.Add("vision_model.embeddings.class_embedding", {h}, "hidden_size");
  out.Add("vision_model.embeddings.patch_embedding.weight", {h, c.num_channels, c.patch_size, c.patch_size},
          "hidden_size, num_channels, patch_size");
  out.Add("vision_model.embeddings.position_embedding.weight", {c.num_positions(), h},
          "image_size, patch_size, hidden_size");
  out.Add("vision_model.embeddings.position_ids", {1, c.num_positions()}, "image_size, patch_size",
          /*optional=*/true);
  out.Norm("vision_model.pre_layrnorm", h, "hidden_size");
  AddClipEncoderWeights(out, "vision_model.encoder", c.encoder_shape());
  out.Norm("vision_model.post_layernorm", h, "hidden_size");
  return out;
}

ClipVisionModel::ClipVisionModel(ClipVisionConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), spec_(spec), impl_(std::move(impl)) {}
ClipVisionModel::~ClipVisionModel() = default;

absl::StatusOr<std::unique_ptr<ClipVisionModel>> ClipVisionModel::Create(const ClipVisionConfig& config,
                                                                         const core::DeviceSpec& spec) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(CheckModelSize(ExpectedWeights(config), "a CLIP vision model"));
  ASSIGN_OR_RETURN(blocks::ActivationFn act, blocks::ActivationByName(config.hidden_act));
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = ClipVisionRoot(config, act);
    impl->root->to(spec.device, spec.dtype);
    // Position ids are indices: they stay int64 whatever the weights' dtype.
    auto& emb = impl->root->vision_model->embeddings;
    emb->position_ids = emb->position_ids.to(torch::kLong);
    impl->root->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot build the CLIP vision model on ", spec.ToString(), ": ",
                                            e.what_without_backtrace()));
  }
  return std::unique_ptr<ClipVisionModel>(new ClipVisionModel(config, spec, std::move(impl)));
}

torch::nn::Module& ClipVisionModel::module() { return *impl_->root; }

absl::Status ClipVisionModel::LoadWeights(const TensorMap& tensors, const std::string& source) {
  LoadOptions options;
  options.optional_keys = {"vision_model.embeddings.position_ids"};
  try {
    return LoadStateDict(*impl_->root, tensors, source, options);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading ", source, ": ", e.what_without_backtrace()));
  }
}

absl::StatusOr<ClipVisionOutput> ClipVisionModel::Forward(const at::Tensor& pixel_values) {
  RETURN_IF_ERROR(blocks::CheckPixelValues(pixel_values, config_.num_channels, config_.image_size));
  try {
    torch::NoGradGuard no_grad;
    auto& vm = impl_->root->vision_model;
    at::Tensor h = vm->pre_layrnorm(vm->embeddings(pixel_values.to(spec_.device, spec_.dtype)));
    ClipVisionOutput out;
    out.last_hidden_state = vm->encoder->forward(
        h, at::Tensor(), stock_path_ ? blocks::EncoderPath::kStock : blocks::EncoderPath::kOurs);
    out.pooler_output = vm->post_layernorm(out.last_hidden_state.select(1, 0));
    return out;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("CLIP vision model forward failed: ", e.what_without_backtrace()));
  }
}

}  // namespace dreamshot::models::clip

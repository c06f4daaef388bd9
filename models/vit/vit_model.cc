#include "models/vit/vit_model.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "models/blocks/pre_ln_layer.h"
#include "models/blocks/vision_config_keys.h"
#include "models/config_limits.h"
#include "models/lora/lora_linear.h"

namespace dreamshot::models::vit {
namespace {

lora::LoraLinear Dense(int64_t in, int64_t out, bool bias = true) {
  return lora::LoraLinear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::nn::LayerNorm MakeLayerNorm(const ViTConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

struct PatchEmbeddingsImpl : torch::nn::Module {
  explicit PatchEmbeddingsImpl(const ViTConfig& c) {
    projection = register_module(
        "projection",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size).stride(c.patch_size)));
  }
  torch::nn::Conv2d projection{nullptr};
};
TORCH_MODULE(PatchEmbeddings);

struct EmbeddingsImpl : torch::nn::Module {
  explicit EmbeddingsImpl(const ViTConfig& c) {
    cls_token = register_parameter("cls_token", torch::empty({1, 1, c.hidden_size}));
    patch_embeddings = register_module("patch_embeddings", PatchEmbeddings(c));
    position_embeddings = register_parameter("position_embeddings", torch::empty({1, c.num_positions(), c.hidden_size}));
  }
  // [B, C, S, S] → [B, 1 + g², H]
  at::Tensor forward(const at::Tensor& pixel_values) {
    at::Tensor patches = patch_embeddings->projection(pixel_values).flatten(2).transpose(1, 2);
    at::Tensor cls = cls_token.expand({pixel_values.size(0), 1, cls_token.size(2)});
    return torch::cat({cls, patches}, 1) + position_embeddings;
  }
  at::Tensor cls_token;
  PatchEmbeddings patch_embeddings{nullptr};
  at::Tensor position_embeddings;
};
TORCH_MODULE(Embeddings);

struct SelfAttentionImpl : torch::nn::Module {
  explicit SelfAttentionImpl(const ViTConfig& c) {
    query = register_module("query", Dense(c.hidden_size, c.hidden_size, c.qkv_bias));
    key = register_module("key", Dense(c.hidden_size, c.hidden_size, c.qkv_bias));
    value = register_module("value", Dense(c.hidden_size, c.hidden_size, c.qkv_bias));
  }
  lora::LoraLinear query{nullptr}, key{nullptr}, value{nullptr};
};
TORCH_MODULE(SelfAttention);

// transformers wraps each single projection in a module of its own
// (ViTSelfOutput, ViTIntermediate, ViTOutput): `<name>.dense`.
struct DenseHolderImpl : torch::nn::Module {
  DenseHolderImpl(int64_t in, int64_t out) { dense = register_module("dense", Dense(in, out)); }
  lora::LoraLinear dense{nullptr};
};
TORCH_MODULE(DenseHolder);

struct AttentionImpl : torch::nn::Module {
  explicit AttentionImpl(const ViTConfig& c) {
    attention = register_module("attention", SelfAttention(c));
    output = register_module("output", DenseHolder(c.hidden_size, c.hidden_size));
  }
  SelfAttention attention{nullptr};
  DenseHolder output{nullptr};
};
TORCH_MODULE(Attention);

struct LayerImpl : torch::nn::Module {
  LayerImpl(const ViTConfig& c, blocks::ActivationFn act) : activation(act), heads(c.num_attention_heads) {
    attention = register_module("attention", Attention(c));
    intermediate = register_module("intermediate", DenseHolder(c.hidden_size, c.intermediate_size));
    output = register_module("output", DenseHolder(c.intermediate_size, c.hidden_size));
    layernorm_before = register_module("layernorm_before", MakeLayerNorm(c));
    layernorm_after = register_module("layernorm_after", MakeLayerNorm(c));
  }
  at::Tensor forward(const at::Tensor& x, blocks::EncoderPath path) {
    auto& qkv = attention->attention;
    const blocks::PreLnLayerModules parts{layernorm_before.get(),
                                          qkv->query.get(),
                                          qkv->key.get(),
                                          qkv->value.get(),
                                          attention->output->dense.get(),
                                          layernorm_after.get(),
                                          intermediate->dense.get(),
                                          output->dense.get(),
                                          activation,
                                          heads};
    return blocks::PreLnLayerForward(parts, x, at::Tensor(), path);
  }
  Attention attention{nullptr};
  DenseHolder intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm layernorm_before{nullptr}, layernorm_after{nullptr};
  blocks::ActivationFn activation;
  int64_t heads;
};
TORCH_MODULE(Layer);

struct EncoderImpl : torch::nn::Module {
  EncoderImpl(const ViTConfig& c, blocks::ActivationFn act) {
    layer = register_module("layer", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(Layer(c, act));
  }
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(Encoder);

struct ViTRootImpl : torch::nn::Module {
  ViTRootImpl(const ViTConfig& c, blocks::ActivationFn act) {
    embeddings = register_module("embeddings", Embeddings(c));
    encoder = register_module("encoder", Encoder(c, act));
    layernorm = register_module("layernorm", MakeLayerNorm(c));
  }
  Embeddings embeddings{nullptr};
  Encoder encoder{nullptr};
  torch::nn::LayerNorm layernorm{nullptr};
};
TORCH_MODULE(ViTRoot);

}  // namespace

struct ViTModel::Impl {
  ViTRoot root{nullptr};
};

ViTConfig ViTConfig::DinoVitS16() {
  ViTConfig c;
  c.hidden_size = 384;
  c.intermediate_size = 1536;
  c.num_attention_heads = 6;
  c.layer_norm_eps = 1e-6;
  return c;
}

absl::StatusOr<ViTConfig> ViTConfig::FromJson(const core::JsonConfig& json) {
  ViTConfig c;
  RETURN_IF_ERROR(blocks::ReadVisionTransformerKeys(json, /*sizes_required=*/false, c));
  ASSIGN_OR_RETURN(c.qkv_bias, json.Bool("qkv_bias", c.qkv_bias));
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  return c;
}

absl::Status ViTConfig::Validate() const {
  return blocks::ValidateVisionTransformer(encoder_shape(), image_size, patch_size, num_channels, hidden_act);
}

ExpectedTensors ViTModel::ExpectedWeights(const ViTConfig& c) {
  ExpectedTensors out;
  const int64_t h = c.hidden_size;
  out.Add("embeddings.cls_token", {1, 1, h}, "hidden_size");
  out.Add("embeddings.position_embeddings", {1, c.num_positions(), h}, "image_size, patch_size, hidden_size");
  out.Conv2d("embeddings.patch_embeddings.projection", c.num_channels, h, c.patch_size,
             "num_channels, hidden_size, patch_size");
  const std::string keys = "hidden_size, num_hidden_layers";
  const std::string mlp_keys = "hidden_size, intermediate_size, num_hidden_layers";
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("encoder.layer.", i);
    for (const char* proj : {".query", ".key", ".value"}) {
      out.Linear(p + ".attention.attention" + proj, h, h, keys + ", qkv_bias", c.qkv_bias);
    }
    out.Linear(p + ".attention.output.dense", h, h, keys);
    out.Linear(p + ".intermediate.dense", h, c.intermediate_size, mlp_keys);
    out.Linear(p + ".output.dense", c.intermediate_size, h, mlp_keys);
    out.Norm(p + ".layernorm_before", h, keys);
    out.Norm(p + ".layernorm_after", h, keys);
  }
  out.Norm("layernorm", h, "hidden_size");
  return out;
}

ViTModel::ViTModel(ViTConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), spec_(spec), impl_(std::move(impl)) {}
ViTModel::~ViTModel() = default;

absl::StatusOr<std::unique_ptr<ViTModel>> ViTModel::Create(const ViTConfig& config, const core::DeviceSpec& spec) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(CheckModelSize(ExpectedWeights(config), "a ViT model"));
  ASSIGN_OR_RETURN(blocks::ActivationFn act, blocks::ActivationByName(config.hidden_act));
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = ViTRoot(config, act);
    impl->root->to(spec.device, spec.dtype);
    impl->root->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot build the ViT model on ", spec.ToString(), ": ",
                                            e.what_without_backtrace()));
  }
  return std::unique_ptr<ViTModel>(new ViTModel(config, spec, std::move(impl)));
}

torch::nn::Module& ViTModel::module() { return *impl_->root; }

absl::Status ViTModel::LoadWeights(const TensorMap& tensors, const std::string& source) {
  try {
    return LoadStateDict(*impl_->root, tensors, source);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading ", source, ": ", e.what_without_backtrace()));
  }
}

absl::StatusOr<ViTOutput> ViTModel::Forward(const at::Tensor& pixel_values) {
  RETURN_IF_ERROR(blocks::CheckPixelValues(pixel_values, config_.num_channels, config_.image_size));
  try {
    torch::NoGradGuard no_grad;
    auto& root = impl_->root;
    at::Tensor h = root->embeddings(pixel_values.to(spec_.device, spec_.dtype));
    const blocks::EncoderPath path = stock_path_ ? blocks::EncoderPath::kStock : blocks::EncoderPath::kOurs;
    for (const auto& layer : *root->encoder->layer) h = layer->as<LayerImpl>()->forward(h, path);
    ViTOutput out;
    out.last_hidden_state = root->layernorm(h);
    out.cls = out.last_hidden_state.select(1, 0);
    return out;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("ViT forward failed: ", e.what_without_backtrace()));
  }
}

}  // namespace dreamshot::models::vit

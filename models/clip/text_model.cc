#include "models/clip/text_model.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "models/config_limits.h"
#include "models/blocks/pre_ln_layer.h"
#include "models/clip/clip_encoder.h"

namespace dreamshot::models::clip {
namespace {

struct ClipTextEmbeddingsImpl : torch::nn::Module {
  ClipTextEmbeddingsImpl(const ClipTextConfig& c) {
    token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
    position_embedding =
        register_module("position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
    position_ids = register_buffer("position_ids", torch::arange(c.max_position_embeddings).unsqueeze(0));
  }
  torch::Tensor forward(const torch::Tensor& input_ids) {
    const int64_t length = input_ids.size(1);
    // [B, L, H] + [1, L, H]
    return token_embedding(input_ids) + position_embedding(position_ids.narrow(1, 0, length));
  }
  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
  torch::Tensor position_ids;
};
TORCH_MODULE(ClipTextEmbeddings);

torch::nn::LayerNorm MakeLayerNorm(const ClipTextConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

struct ClipTextTransformerImpl : torch::nn::Module {
  ClipTextTransformerImpl(const ClipTextConfig& c, blocks::ActivationFn act) {
    embeddings = register_module("embeddings", ClipTextEmbeddings(c));
    encoder = register_module("encoder", ClipEncoder(c.encoder_shape(), act));
    final_layer_norm = register_module("final_layer_norm", MakeLayerNorm(c));
  }
  ClipTextEmbeddings embeddings{nullptr};
  ClipEncoder encoder{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(ClipTextTransformer);

// The top module only adds the "text_model." prefix of upstream names.
struct ClipTextRootImpl : torch::nn::Module {
  ClipTextRootImpl(const ClipTextConfig& c, blocks::ActivationFn act) {
    text_model = register_module("text_model", ClipTextTransformer(c, act));
  }
  ClipTextTransformer text_model{nullptr};
};
TORCH_MODULE(ClipTextRoot);

}  // namespace

struct ClipTextModel::Impl {
  ClipTextRoot root{nullptr};
};

absl::StatusOr<ClipTextConfig> ClipTextConfig::FromJson(const core::JsonConfig& json) {
  ClipTextConfig c;
  ASSIGN_OR_RETURN(c.vocab_size, json.Int("vocab_size", c.vocab_size));
  ASSIGN_OR_RETURN(c.hidden_size, json.Int("hidden_size"));
  ASSIGN_OR_RETURN(c.intermediate_size, json.Int("intermediate_size"));
  ASSIGN_OR_RETURN(c.num_hidden_layers, json.Int("num_hidden_layers"));
  ASSIGN_OR_RETURN(c.num_attention_heads, json.Int("num_attention_heads"));
  ASSIGN_OR_RETURN(c.max_position_embeddings, json.Int("max_position_embeddings", c.max_position_embeddings));
  ASSIGN_OR_RETURN(c.hidden_act, json.String("hidden_act", c.hidden_act));
  ASSIGN_OR_RETURN(c.layer_norm_eps, json.Double("layer_norm_eps", c.layer_norm_eps));
  ASSIGN_OR_RETURN(c.eos_token_id, json.Int("eos_token_id", c.eos_token_id));
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  return c;
}

absl::Status ClipTextConfig::Validate() const {
  RETURN_IF_ERROR(core::CheckIntRange("vocab_size", vocab_size, 1, kMaxVocabulary));
  RETURN_IF_ERROR(blocks::ValidateEncoderShape(encoder_shape()));
  RETURN_IF_ERROR(core::CheckIntRange("max_position_embeddings", max_position_embeddings, 1, kMaxPositions));
  RETURN_IF_ERROR(core::CheckIntRange("eos_token_id", eos_token_id, 0, kMaxVocabulary));
  return blocks::ActivationByName(hidden_act).status();
}

ClipTextModel::ClipTextModel(ClipTextConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), spec_(spec), impl_(std::move(impl)) {}
ClipTextModel::~ClipTextModel() = default;

absl::StatusOr<std::unique_ptr<ClipTextModel>> ClipTextModel::Create(const ClipTextConfig& config,
                                                                     const core::DeviceSpec& spec) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(CheckModelSize(ExpectedWeights(config), "a CLIP text model"));
  ASSIGN_OR_RETURN(blocks::ActivationFn act, blocks::ActivationByName(config.hidden_act));
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = ClipTextRoot(config, act);
    impl->root->to(spec.device, spec.dtype);
    // Position ids are indices: they stay int64 whatever the weights' dtype.
    auto& emb = impl->root->text_model->embeddings;
    emb->position_ids = emb->position_ids.to(torch::kLong);
    impl->root->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot build the CLIP text model on ", spec.ToString(), ": ",
                                            e.what_without_backtrace()));
  }
  return std::unique_ptr<ClipTextModel>(new ClipTextModel(config, spec, std::move(impl)));
}

torch::nn::Module& ClipTextModel::module() { return *impl_->root; }

absl::Status ClipTextModel::LoadWeights(const TensorMap& tensors, const std::string& source) {
  LoadOptions options;
  // transformers >= 4.31 no longer saves position_ids; older files have it.
  options.optional_keys = {"text_model.embeddings.position_ids"};
  try {
    return LoadStateDict(*impl_->root, tensors, source, options);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading ", source, ": ", e.what_without_backtrace()));
  }
}

absl::StatusOr<at::Tensor> ClipTextModel::FinalLayerNorm(const at::Tensor& hidden) {
  if (hidden.dim() < 1 || hidden.size(-1) != config_.hidden_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("FinalLayerNorm: last dimension must be ", config_.hidden_size, ", got ", c10::str(hidden.sizes())));
  }
  try {
    return impl_->root->text_model->final_layer_norm(hidden.to(spec_.device, spec_.dtype));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("CLIP final_layer_norm failed: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<ClipTextOutput> ClipTextModel::Forward(const at::Tensor& input_ids, bool output_hidden_states) {
  if (input_ids.dim() != 2 || input_ids.scalar_type() != torch::kLong) {
    return absl::InvalidArgumentError("input_ids must be an int64 tensor of shape [batch, length]");
  }
  if (input_ids.size(1) > config_.max_position_embeddings || input_ids.size(1) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("input_ids length ", input_ids.size(1), " is not in [1, ",
                                                   config_.max_position_embeddings, "]"));
  }
  try {
    auto& tm = impl_->root->text_model;
    const torch::Tensor ids = input_ids.to(spec_.device);
    if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= config_.vocab_size)) {
      return absl::InvalidArgumentError(absl::StrCat("input_ids hold token ids outside [0, ", config_.vocab_size, ")"));
    }
    ClipTextOutput out;
    torch::Tensor h = tm->embeddings(ids);  // [B, L, H]
    const int64_t l = ids.size(1);
    const torch::Tensor causal_mask =
        torch::full({l, l}, -std::numeric_limits<float>::infinity(), h.options()).triu(1);  // [L, L]
    if (output_hidden_states) out.hidden_states.push_back(h);
    h = tm->encoder->forward(h, causal_mask, blocks::EncoderPath::kStock,
                             output_hidden_states ? &out.hidden_states : nullptr);
    out.last_hidden_state = tm->final_layer_norm(h);
    torch::Tensor eos_positions;
    if (config_.eos_token_id == 2) {
      eos_positions = ids.argmax(-1);
    } else {
      // First end-of-text token; argmax over the match mask returns the first hit.
      eos_positions = ids.eq(config_.eos_token_id).to(torch::kInt).argmax(-1);
    }
    out.pooler_output = out.last_hidden_state.index(
        {torch::arange(ids.size(0), ids.options()), eos_positions});  // [B, H]
    return out;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("CLIP text model forward failed: ", e.what_without_backtrace()));
  }
}

}  // namespace dreamshot::models::clip

#include "models/vit/vit_loading.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/component_weights.h"
#include "core/json_config.h"
#include "core/status_macros.h"
#include "models/load_model.h"

namespace dreamshot::models::vit {
namespace {

namespace fs = std::filesystem;

// "blocks.3.attn.proj.weight" → layer 3, rest "attn.proj.weight".
bool SplitBlockKey(const std::string& key, int64_t* layer, std::string* rest) {
  if (!absl::StartsWith(key, "blocks.")) return false;
  const std::vector<std::string> parts = absl::StrSplit(key, absl::MaxSplits('.', 2));
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], layer) || *layer < 0) return false;
  *rest = parts[2];
  return true;
}

// The transformers name of a DINO block tensor other than the fused qkv.
std::string BlockName(const std::string& rest) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"norm1.", "layernorm_before."},          {"attn.proj.", "attention.output.dense."},
      {"norm2.", "layernorm_after."},           {"mlp.fc1.", "intermediate.dense."},
      {"mlp.fc2.", "output.dense."},
  };
  for (const auto& [from, to] : kNames) {
    if (absl::StartsWith(rest, from)) return to + rest.substr(std::strlen(from));
  }
  return "";
}

// transformers-layout names as ViTModel registers them.
TensorMap NormaliseTransformersKeys(const TensorMap& tensors) {
  TensorMap out;
  for (const auto& [key, tensor] : tensors) {
    std::string name = absl::StartsWith(key, "vit.") ? key.substr(4) : key;
    if (absl::StartsWith(name, "pooler.")) continue;  // add_pooling_layer=True: not part of the embedding
    out[name] = tensor;
  }
  return out;
}

absl::StatusOr<core::JsonConfig> ConfigNextTo(const fs::path& folder) {
  return core::JsonConfig::FromFile((folder / "config.json").string());
}

}  // namespace

bool HasDinoKeys(const TensorMap& tensors) { return tensors.count("cls_token") && tensors.count("pos_embed"); }

absl::StatusOr<TensorMap> DinoToTransformersKeys(const TensorMap& dino, const std::string& source) {
  TensorMap out;
  for (const auto& [key, tensor] : dino) {
    int64_t layer = 0;
    std::string rest;
    if (key == "cls_token") {
      out["embeddings.cls_token"] = tensor;
    } else if (key == "pos_embed") {
      out["embeddings.position_embeddings"] = tensor;
    } else if (absl::StartsWith(key, "patch_embed.proj.")) {
      out["embeddings.patch_embeddings.projection." + key.substr(17)] = tensor;
    } else if (absl::StartsWith(key, "norm.")) {
      out["layernorm." + key.substr(5)] = tensor;
    } else if (SplitBlockKey(key, &layer, &rest)) {
      const std::string prefix = absl::StrCat("encoder.layer.", layer, ".");
      if (absl::StartsWith(rest, "attn.qkv.")) {
        // Rows [q; k; v], each `width` long (timm's Attention reshapes the
        // fused output as (3, heads, head_dim)).
        const std::string suffix = rest.substr(9);
        if (tensor.dim() < 1 || tensor.size(0) % 3 != 0) {
          return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, " has ", c10::str(tensor.sizes()),
                                                         ", not 3 × width rows"));
        }
        const std::vector<at::Tensor> qkv = tensor.chunk(3, 0);
        out[prefix + "attention.attention.query." + suffix] = qkv[0];
        out[prefix + "attention.attention.key." + suffix] = qkv[1];
        out[prefix + "attention.attention.value." + suffix] = qkv[2];
      } else if (const std::string name = BlockName(rest); !name.empty()) {
        out[prefix + name] = tensor;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(source, ": unknown DINO ViT tensor ", key));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(source, ": unknown DINO ViT tensor ", key));
    }
  }
  return out;
}

absl::StatusOr<ViTConfig> ConfigFromDinoWeights(const TensorMap& dino, const std::string& source) {
  auto shape_of = [&](const std::string& key, int64_t dims) -> absl::StatusOr<at::IntArrayRef> {
    auto it = dino.find(key);
    if (it == dino.end()) return absl::InvalidArgumentError(absl::StrCat(source, ": DINO weights without ", key));
    if (it->second.dim() != dims) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, " has ", c10::str(it->second.sizes()),
                                                     ", expected ", dims, " dimensions"));
    }
    return it->second.sizes();
  };
  ViTConfig c;
  ASSIGN_OR_RETURN(at::IntArrayRef cls, shape_of("cls_token", 3));
  ASSIGN_OR_RETURN(at::IntArrayRef pos, shape_of("pos_embed", 3));
  ASSIGN_OR_RETURN(at::IntArrayRef patch, shape_of("patch_embed.proj.weight", 4));
  ASSIGN_OR_RETURN(at::IntArrayRef fc1, shape_of("blocks.0.mlp.fc1.weight", 2));
  c.hidden_size = cls[2];
  c.intermediate_size = fc1[0];
  c.num_channels = patch[1];
  c.patch_size = patch[2];
  const int64_t grid = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(pos[1] - 1))));
  if (grid * grid + 1 != pos[1]) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": pos_embed holds ", pos[1], " positions, not 1 + a square grid of patches"));
  }
  c.image_size = grid * c.patch_size;
  c.num_hidden_layers = 0;
  while (dino.count(absl::StrCat("blocks.", c.num_hidden_layers, ".norm1.weight"))) ++c.num_hidden_layers;
  c.num_attention_heads = c.hidden_size / 64;
  c.qkv_bias = dino.count("blocks.0.attn.qkv.bias") > 0;
  c.hidden_act = "gelu";
  c.layer_norm_eps = 1e-6;
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", valid.message()));
  return c;
}

absl::StatusOr<std::unique_ptr<ViTModel>> LoadViT(const std::string& path, const core::DeviceSpec& spec,
                                                  const std::optional<ViTConfig>& config) {
  std::error_code ec;
  const bool is_folder = fs::is_directory(path, ec);
  std::string weights_path = path;
  if (is_folder) {
    ASSIGN_OR_RETURN(weights_path, core::FindComponentWeights(path));
  }
  const fs::path folder = is_folder ? fs::path(path) : fs::path(path).parent_path();
  ASSIGN_OR_RETURN(TensorMap stored,
                   core::LoadWeightsFile(weights_path, core::TensorPlacement::AsStored(spec.device)));

  const bool dino = HasDinoKeys(stored);
  TensorMap tensors;
  if (dino) {
    ASSIGN_OR_RETURN(tensors, DinoToTransformersKeys(stored, weights_path));
  } else {
    tensors = NormaliseTransformersKeys(stored);
  }
  // The config the shapes are checked against, and how errors name it.
  ViTConfig vit_config;
  std::optional<core::JsonConfig> json;
  if (config) {
    vit_config = *config;
    RETURN_IF_ERROR(vit_config.Validate());
  } else if (fs::exists(folder / "config.json", ec)) {
    ASSIGN_OR_RETURN(json, ConfigNextTo(folder));
    ASSIGN_OR_RETURN(vit_config, ViTConfig::FromJson(*json));
  } else if (dino) {
    ASSIGN_OR_RETURN(vit_config, ConfigFromDinoWeights(stored, weights_path));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no config.json beside transformers-layout ViT weights"));
  }
  if (!json) {
    ASSIGN_OR_RETURN(json, core::JsonConfig::FromString(
                               "{}", dino && !config ? "the config inferred from the DINO weights" : "the given config"));
  }
  RETURN_IF_ERROR(CheckWeightShapes(ViTModel::ExpectedWeights(vit_config), core::ShapesOf(tensors), *json,
                                    weights_path));
  return BuildModel<ViTModel>(vit_config, tensors, spec, weights_path);
}

}  // namespace dreamshot::models::vit

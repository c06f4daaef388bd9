// Loading a ViT image encoder from the layouts it is published in:
//  - a transformers folder (config.json + model.safetensors or
//    pytorch_model.bin), as facebook/dino-vits16; a "vit." prefix
//    (ViTFor... heads) is stripped and pooler.* (add_pooling_layer=True) is
//    dropped, since the embedding is the class token;
//  - an original DINO checkpoint (facebookresearch/dino's
//    dino_deitsmall16_pretrain.pth: cls_token, pos_embed, patch_embed.proj,
//    blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm),
//    whose fused qkv is split into query/key/value as transformers'
//    conversion script does.
// The config is compared with the weights' shapes before any module is
// built, and errors name the tensor and the config key.
#ifndef DREAMSHOT_MODELS_VIT_VIT_LOADING_H_
#define DREAMSHOT_MODELS_VIT_VIT_LOADING_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "models/state_dict.h"
#include "models/vit/vit_model.h"

namespace dreamshot::models::vit {

// Whether `tensors` use the original DINO names (cls_token, blocks.N...).
bool HasDinoKeys(const TensorMap& tensors);

// DINO names → transformers ViTModel names. INVALID_ARGUMENT naming the
// first key it does not know, or a qkv tensor whose rows are not 3 × width.
absl::StatusOr<TensorMap> DinoToTransformersKeys(const TensorMap& dino, const std::string& source);

// The ViT config of DINO weights: sizes from the tensor shapes, 64-wide
// heads (every DINO ViT: S/16 has 6, B/16 12), exact GELU, eps 1e-6.
absl::StatusOr<ViTConfig> ConfigFromDinoWeights(const TensorMap& dino, const std::string& source);

// `path`: a transformers folder, or a weights file (.safetensors, .bin,
// .pth, .pt) in either layout. The config: `config` when given, else the
// folder's (or the file's folder's) config.json, else — for DINO names
// only — ConfigFromDinoWeights.
absl::StatusOr<std::unique_ptr<ViTModel>> LoadViT(const std::string& path, const core::DeviceSpec& spec,
                                                  const std::optional<ViTConfig>& config = std::nullopt);

}  // namespace dreamshot::models::vit

#endif  // DREAMSHOT_MODELS_VIT_VIT_LOADING_H_

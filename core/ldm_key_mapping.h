// Original LDM / CompVis single-file checkpoint names -> diffusers names,
// one function per component, driven by prefix tables plus the index
// arithmetic the diffusers block layout needs (see ldm_key_mapping.cc for
// the tables). Covers Stable Diffusion 1.x layouts:
//   text encoder  cond_stage_model.transformer[.text_model].*  -> text_model.*
//   VAE           first_stage_model.*                          -> encoder./decoder./quant_conv...
//   UNet          model.diffusion_model.*                      -> down_blocks./mid_block./up_blocks...
// Not covered (reported as unmapped): SD 2.x OpenCLIP text encoders
// (cond_stage_model.model.*), SDXL conditioners, class/label embeddings,
// EMA copies (model_ema.*), and the diffusion schedule buffers (betas, ...);
// keys outside a component's prefix are not that component's business.
#ifndef DREAMSHOT_CORE_LDM_KEY_MAPPING_H_
#define DREAMSHOT_CORE_LDM_KEY_MAPPING_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/json_config.h"

namespace dreamshot::core {

inline constexpr absl::string_view kLdmUNetPrefix = "model.diffusion_model.";
inline constexpr absl::string_view kLdmVaePrefix = "first_stage_model.";
inline constexpr absl::string_view kLdmTextEncoderPrefix = "cond_stage_model.";

// The block counts the UNet / VAE mappings need, from the diffusers config.
struct LdmBlockLayout {
  int num_blocks = 4;        // len(block_out_channels)
  int layers_per_block = 2;  // resnets per down block (up blocks have one more)
};
// Reads block_out_channels and layers_per_block (an integer) from a UNet or
// VAE config.json; INVALID_ARGUMENT naming the file otherwise.
absl::StatusOr<LdmBlockLayout> LdmBlockLayoutFromConfig(const JsonConfig& config);

// One mapped name. `squeeze_1x1` marks a 1x1 conv weight [C, C, 1, 1] whose
// diffusers counterpart is a linear weight [C, C] (VAE mid-block attention).
struct MappedKey {
  std::string name;
  bool squeeze_1x1 = false;
};

// Single-key mappings; `ldm_key` includes the component prefix. nullopt
// when no rule covers the key (including keys of other components).
std::optional<MappedKey> MapLdmUNetKey(absl::string_view ldm_key, const LdmBlockLayout& layout);
std::optional<MappedKey> MapLdmVaeKey(absl::string_view ldm_key, const LdmBlockLayout& layout);
std::optional<MappedKey> MapLdmTextEncoderKey(absl::string_view ldm_key);

struct ConvertedTensors {
  std::map<std::string, at::Tensor> tensors;  // diffusers names
  std::vector<std::string> unmapped;           // component keys no rule covers
};

// Takes the keys of `ldm` under the component's prefix and renames them
// (reshaping where MappedKey::squeeze_1x1 says so). Keys of other
// components are ignored. With `strict`, any unmapped component key is
// INVALID_ARGUMENT naming it; otherwise it is listed in `unmapped`. Two keys
// mapping to one name, a squeeze of a tensor that is not [C, C', 1, 1], or
// no key of the component at all are always INVALID_ARGUMENT.
// `source` names the checkpoint in errors.
absl::StatusOr<ConvertedTensors> ConvertLdmUNet(const std::map<std::string, at::Tensor>& ldm,
                                                const LdmBlockLayout& layout, bool strict,
                                                const std::string& source);
absl::StatusOr<ConvertedTensors> ConvertLdmVae(const std::map<std::string, at::Tensor>& ldm,
                                               const LdmBlockLayout& layout, bool strict, const std::string& source);
absl::StatusOr<ConvertedTensors> ConvertLdmTextEncoder(const std::map<std::string, at::Tensor>& ldm, bool strict,
                                                       const std::string& source);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_LDM_KEY_MAPPING_H_

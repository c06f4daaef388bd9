// What transformers' CLIPVisionConfig and ViTConfig share (the encoder's
// sizes, image_size, patch_size, num_channels, hidden_act, layer_norm_eps),
// read and checked once for both config structs, which name their members
// as the keys; and the check of the pixel values both models take.
#ifndef DREAMSHOT_MODELS_BLOCKS_VISION_CONFIG_KEYS_H_
#define DREAMSHOT_MODELS_BLOCKS_VISION_CONFIG_KEYS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "core/json_config.h"
#include "core/status_macros.h"
#include "models/blocks/encoder_shape.h"
#include "models/config_limits.h"

namespace dreamshot::models::blocks {

// Missing keys keep `c`'s values, except the encoder's four sizes when
// `sizes_required` (CLIP's configs always write them).
template <typename Config>
absl::Status ReadVisionTransformerKeys(const core::JsonConfig& json, bool sizes_required, Config& c) {
  for (auto [key, value] : {std::pair{"hidden_size", &c.hidden_size}, std::pair{"intermediate_size", &c.intermediate_size},
                            std::pair{"num_hidden_layers", &c.num_hidden_layers},
                            std::pair{"num_attention_heads", &c.num_attention_heads}}) {
    ASSIGN_OR_RETURN(*value, sizes_required ? json.Int(key) : json.Int(key, *value));
  }
  ASSIGN_OR_RETURN(c.image_size, json.Int("image_size", c.image_size));
  ASSIGN_OR_RETURN(c.patch_size, json.Int("patch_size", c.patch_size));
  ASSIGN_OR_RETURN(c.num_channels, json.Int("num_channels", c.num_channels));
  ASSIGN_OR_RETURN(c.hidden_act, json.String("hidden_act", c.hidden_act));
  ASSIGN_OR_RETURN(c.layer_norm_eps, json.Double("layer_norm_eps", c.layer_norm_eps));
  return absl::OkStatus();
}

// The shape (ValidateEncoderShape), the input sizes (a patch no larger than
// the image) and the activation.
absl::Status ValidateVisionTransformer(const EncoderShape& shape, int64_t image_size, int64_t patch_size,
                                       int64_t num_channels, const std::string& hidden_act);

// INVALID_ARGUMENT unless `pixel_values` is a floating-point
// [batch ≥ 1, num_channels, image_size, image_size] tensor.
absl::Status CheckPixelValues(const at::Tensor& pixel_values, int64_t num_channels, int64_t image_size);

}  // namespace dreamshot::models::blocks

#endif  // DREAMSHOT_MODELS_BLOCKS_VISION_CONFIG_KEYS_H_

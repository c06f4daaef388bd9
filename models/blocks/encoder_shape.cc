#include "models/blocks/encoder_shape.h"

#include "absl/strings/str_cat.h"
#include "core/json_config.h"
#include "core/status_macros.h"
#include "models/blocks/pre_ln_layer.h"
#include "models/blocks/vision_config_keys.h"
#include "models/config_limits.h"

namespace dreamshot::models::blocks {

absl::Status ValidateEncoderShape(const EncoderShape& s) {
  RETURN_IF_ERROR(core::CheckIntRange("hidden_size", s.hidden_size, 1, kMaxChannels));
  RETURN_IF_ERROR(core::CheckIntRange("intermediate_size", s.intermediate_size, 1, kMaxIntermediate));
  RETURN_IF_ERROR(core::CheckIntRange("num_hidden_layers", s.num_hidden_layers, 1, kMaxTextLayers));
  RETURN_IF_ERROR(core::CheckIntRange("num_attention_heads", s.num_attention_heads, 1, kMaxChannels));
  if (s.hidden_size % s.num_attention_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("hidden_size ", s.hidden_size,
                                                   " is not divisible by num_attention_heads ",
                                                   s.num_attention_heads));
  }
  if (!(s.layer_norm_eps > 0 && s.layer_norm_eps <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("layer_norm_eps = ", s.layer_norm_eps, " must be in (0, 1]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateVisionTransformer(const EncoderShape& shape, int64_t image_size, int64_t patch_size,
                                       int64_t num_channels, const std::string& hidden_act) {
  RETURN_IF_ERROR(ValidateEncoderShape(shape));
  RETURN_IF_ERROR(core::CheckIntRange("image_size", image_size, 1, kMaxImageSide));
  RETURN_IF_ERROR(core::CheckIntRange("patch_size", patch_size, 1, image_size));
  RETURN_IF_ERROR(core::CheckIntRange("num_channels", num_channels, 1, kMaxImageChannels));
  return ActivationByName(hidden_act).status();
}

absl::Status CheckPixelValues(const at::Tensor& pixel_values, int64_t num_channels, int64_t image_size) {
  if (pixel_values.dim() != 4 || pixel_values.size(0) == 0 || pixel_values.size(1) != num_channels ||
      pixel_values.size(2) != image_size || pixel_values.size(3) != image_size) {
    return absl::InvalidArgumentError(absl::StrCat("pixel_values must be [batch, ", num_channels, ", ", image_size,
                                                   ", ", image_size, "], got ", c10::str(pixel_values.sizes())));
  }
  if (!pixel_values.is_floating_point()) return absl::InvalidArgumentError("pixel_values must be floating point");
  return absl::OkStatus();
}

}  // namespace dreamshot::models::blocks

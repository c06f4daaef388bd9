#include "models/blocks/encoder_shape.h"

#include "absl/strings/str_cat.h"
#include "core/json_config.h"
#include "core/status_macros.h"
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

}  // namespace dreamshot::models::blocks

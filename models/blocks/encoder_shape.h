// The sizes of a stack of pre-LN transformer layers (models/blocks/
// pre_ln_layer.h), as CLIP's and ViT's configs give them, and their range
// checks. Light header: no LibTorch.
#ifndef DREAMSHOT_MODELS_BLOCKS_ENCODER_SHAPE_H_
#define DREAMSHOT_MODELS_BLOCKS_ENCODER_SHAPE_H_

#include <cstdint>

#include "absl/status/status.h"

namespace dreamshot::models::blocks {

struct EncoderShape {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  double layer_norm_eps = 1e-5;
};

// Ranges (models/config_limits.h), head divisibility and the LayerNorm
// epsilon, naming the config key.
absl::Status ValidateEncoderShape(const EncoderShape& shape);

}  // namespace dreamshot::models::blocks

#endif  // DREAMSHOT_MODELS_BLOCKS_ENCODER_SHAPE_H_

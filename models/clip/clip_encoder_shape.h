// The sizes of a CLIP encoder stack (models/clip/clip_encoder.h) and the
// tensors it registers, in a header light enough for the model headers.
#ifndef DREAMSHOT_MODELS_CLIP_CLIP_ENCODER_SHAPE_H_
#define DREAMSHOT_MODELS_CLIP_CLIP_ENCODER_SHAPE_H_

#include <string>

#include "models/blocks/encoder_shape.h"
#include "models/expected_tensors.h"

namespace dreamshot::models::clip {

using ClipEncoderShape = blocks::EncoderShape;

// The tensors of ClipEncoder(shape) under `prefix` ("text_model.encoder").
void AddClipEncoderWeights(ExpectedTensors& out, const std::string& prefix, const ClipEncoderShape& shape);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_CLIP_ENCODER_SHAPE_H_

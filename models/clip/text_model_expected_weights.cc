// ClipTextModel::ExpectedWeights: the tensor names and shapes the modules of
// text_model.cc register (text_model_test checks the two agree).
#include "models/clip/clip_encoder_shape.h"
#include "models/clip/text_model.h"

namespace dreamshot::models::clip {

ExpectedTensors ClipTextModel::ExpectedWeights(const ClipTextConfig& c) {
  ExpectedTensors out;
  const int64_t h = c.hidden_size;
  out.Add("text_model.embeddings.token_embedding.weight", {c.vocab_size, h}, "vocab_size, hidden_size");
  out.Add("text_model.embeddings.position_embedding.weight", {c.max_position_embeddings, h},
          "max_position_embeddings, hidden_size");
  out.Add("text_model.embeddings.position_ids", {1, c.max_position_embeddings}, "max_position_embeddings",
          /*optional=*/true);
  AddClipEncoderWeights(out, "text_model.encoder", c.encoder_shape());
  out.Norm("text_model.final_layer_norm", h, "hidden_size");
  return out;
}

}  // namespace dreamshot::models::clip

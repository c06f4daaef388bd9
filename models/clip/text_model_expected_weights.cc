// ClipTextModel::ExpectedWeights: the tensor names and shapes the modules of
// text_model.cc register (text_model_test checks the two agree).
#include "absl/strings/str_cat.h"
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
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = absl::StrCat("text_model.encoder.layers.", i);
    const std::string keys = "hidden_size, num_hidden_layers";
    for (const char* proj : {".k_proj", ".v_proj", ".q_proj", ".out_proj"}) {
      out.Linear(p + ".self_attn" + proj, h, h, keys);
    }
    out.Norm(p + ".layer_norm1", h, keys);
    out.Linear(p + ".mlp.fc1", h, c.intermediate_size, "hidden_size, intermediate_size, num_hidden_layers");
    out.Linear(p + ".mlp.fc2", c.intermediate_size, h, "hidden_size, intermediate_size, num_hidden_layers");
    out.Norm(p + ".layer_norm2", h, keys);
  }
  out.Norm("text_model.final_layer_norm", h, "hidden_size");
  return out;
}

}  // namespace dreamshot::models::clip

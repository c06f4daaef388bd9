#include "trainer/text_conditioning.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::trainer {
namespace {

absl::Status CheckExamples(const std::vector<EncodedExample>& examples, const char* kind,
                           const models::clip::ClipTextModel* text_encoder, bool train_text_encoder) {
  for (size_t i = 0; i < examples.size(); ++i) {
    const EncodedExample& e = examples[i];
    const bool has_ids = e.input_ids.defined();
    if (train_text_encoder && !has_ids) {
      return absl::InvalidArgumentError(absl::StrCat(
          kind, " example ", i, " has no token ids: training the text encoder needs every prompt as input_ids"));
    }
    if (!has_ids && !e.text.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " example ", i, " has neither text states nor token ids"));
    }
    if (has_ids && (e.input_ids.dim() != 1 || e.input_ids.scalar_type() != torch::kLong)) {
      return absl::InvalidArgumentError(absl::StrCat(kind, " example ", i,
                                                     ": input_ids must be int64 of shape [L], got ",
                                                     c10::str(e.input_ids.sizes(), " ", e.input_ids.dtype())));
    }
    if (has_ids && (train_text_encoder || !e.text.defined()) && text_encoder == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " example ", i, " carries token ids, and there is no text encoder to encode them"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<at::Tensor> Encode(models::clip::ClipTextModel& text_encoder, const std::vector<at::Tensor>& ids) {
  ASSIGN_OR_RETURN(models::clip::ClipTextOutput out, text_encoder.Forward(torch::stack(ids)));
  return out.last_hidden_state;
}

}  // namespace

absl::Status CheckExamplePrompts(const TrainingData& data, const models::clip::ClipTextModel* text_encoder,
                                 bool train_text_encoder) {
  RETURN_IF_ERROR(CheckExamples(data.instance, "instance", text_encoder, train_text_encoder));
  return CheckExamples(data.prior, "class", text_encoder, train_text_encoder);
}

absl::StatusOr<at::Tensor> BatchTextStates(const std::vector<const EncodedExample*>& examples,
                                           models::clip::ClipTextModel* text_encoder, bool train_text_encoder) {
  std::vector<at::Tensor> ids;
  if (train_text_encoder) {
    for (const EncodedExample* e : examples) ids.push_back(e->input_ids);
    return Encode(*text_encoder, ids);
  }
  std::vector<at::Tensor> states;
  std::vector<size_t> to_encode;  // positions whose states come from their ids
  for (size_t i = 0; i < examples.size(); ++i) {
    states.push_back(examples[i]->text);
    if (!examples[i]->text.defined()) {
      to_encode.push_back(i);
      ids.push_back(examples[i]->input_ids);
    }
  }
  if (!to_encode.empty()) {
    torch::NoGradGuard no_grad;  // the text encoder is frozen
    ASSIGN_OR_RETURN(at::Tensor encoded, Encode(*text_encoder, ids));
    const bool all = to_encode.size() == examples.size();
    if (all) return encoded;
    at::TensorOptions like;
    for (const at::Tensor& s : states) {
      if (s.defined()) {
        like = s.options();
        break;
      }
    }
    for (size_t j = 0; j < to_encode.size(); ++j) states[to_encode[j]] = encoded[j].to(like);
  }
  return torch::stack(states);
}

}  // namespace dreamshot::trainer

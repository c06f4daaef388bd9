// How a micro-batch's examples become the UNet's encoder_hidden_states:
// cached text-encoder states, or the text encoder run on their token ids —
// frozen (no grad), or with grad when a text-encoder adapter trains (see
// EncodedExample in trainer/training_loop.h).
#ifndef DREAMSHOT_TRAINER_TEXT_CONDITIONING_H_
#define DREAMSHOT_TRAINER_TEXT_CONDITIONING_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/clip/text_model.h"
#include "trainer/training_data.h"

namespace dreamshot::trainer {


// Before any step: every example has what its prompt needs — token ids
// when `train_text_encoder`, else cached states or ids — and ids only with
// a text encoder. INVALID_ARGUMENT naming the first example that does not
// ("instance example 2 has no token ids …"), or a bad ids shape.
absl::Status CheckExamplePrompts(const TrainingData& data, const models::clip::ClipTextModel* text_encoder,
                                 bool train_text_encoder);

// [N, 77, D] for `examples` in order. Training the text encoder: one
// forward over all their ids with grad (instance and class prompts
// together, as upstream). Frozen: the cached states stacked when every
// example has them (what the loop always did), else the ids of those
// without encoded in one forward under NoGradGuard.
absl::StatusOr<at::Tensor> BatchTextStates(const std::vector<const EncodedExample*>& examples,
                                           models::clip::ClipTextModel* text_encoder, bool train_text_encoder);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_TEXT_CONDITIONING_H_

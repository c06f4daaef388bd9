// Shot scale by CLIP zero-shot classification: the scale whose prompt's CLIP
// text embedding is closest (cosine) to the image's CLIP image embedding,
// with CLIP's own zero-shot probability, softmax(logit_scale · cosines), as
// the confidence. Each scale may have several prompts; their normalised
// text embeddings are averaged and renormalised first (the CLIP paper's
// prompt ensembling). The encoders stay outside: this takes embeddings.
#ifndef DREAMSHOT_EVALUATOR_CLIP_ZERO_SHOT_H_
#define DREAMSHOT_EVALUATOR_CLIP_ZERO_SHOT_H_

#include <ATen/core/Tensor.h>

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataset/types.h"

namespace dreamshot::evaluator {

// The prompts used when a configuration gives none: film vocabulary, one
// framing each (close-up / medium / long, with their common synonyms).
std::vector<std::string> DefaultScalePrompts(dataset::ShotScale scale);

struct ZeroShotScale {
  dataset::ShotScale scale = dataset::ShotScale::kUnknown;
  double confidence = 0;                  // the winner's probability
  std::array<double, 3> probabilities{};  // close, medium, long
};

// `image_embeds` [N, D]; `prompt_embeds[s]` [P_s, D] for s = close, medium,
// long (P_s ≥ 1), any normalisation. INVALID_ARGUMENT for shapes that do not
// fit (naming the scale), a non-positive or non-finite logit scale, or a
// zero or non-finite embedding (naming its row).
absl::StatusOr<std::vector<ZeroShotScale>> ClassifyShotScales(const at::Tensor& image_embeds,
                                                              const std::array<at::Tensor, 3>& prompt_embeds,
                                                              double logit_scale = 100.0);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_CLIP_ZERO_SHOT_H_

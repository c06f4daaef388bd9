// Small random-weight image/text encoders in the upstream folder layouts,
// so the evaluator's quick start and tests run without downloading CLIP or
// DINO: a transformers CLIPModel folder (config.json with text_config and
// vision_config, model.safetensors, preprocessor_config.json and the tiny
// generated CLIP tokenizer of diffusion/pipeline/tiny_model_parts.h) and a
// transformers ViTModel folder in the DINO ViT-S/16 layout (config.json,
// model.safetensors). Each has a README.md saying the weights are random:
// their scores are numbers, not judgements. Same seed, same bytes; the
// folder appears whole or not at all.
#ifndef DREAMSHOT_EVALUATOR_TINY_ENCODERS_H_
#define DREAMSHOT_EVALUATOR_TINY_ENCODERS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace dreamshot::evaluator {

// FAILED_PRECONDITION (naming the path) when `dir` exists and is not an
// empty folder; INTERNAL for I/O and LibTorch failures.
absl::Status WriteTinyClipModel(const std::string& dir, uint64_t seed);
absl::Status WriteTinyDinoVit(const std::string& dir, uint64_t seed);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_TINY_ENCODERS_H_

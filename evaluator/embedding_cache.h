// Image embeddings (CLIP image features, DINO CLS) computed once: each
// image's embedding is stored in the on-disk encoding cache
// (core/encoding_cache.h, kind "embeddings") under the image's SHA-256, the
// encoder's weights fingerprint (core::WeightsFingerprint) and the
// preprocessing's description, so re-scoring a checkpoint against the same
// real frames, or a resumed evaluation, re-encodes nothing. The encoder is a
// function from pixel_values to [N, D] embeddings, so any tower (CLIP, DINO,
// a test's stand-in) plugs in.
#ifndef DREAMSHOT_EVALUATOR_EMBEDDING_CACHE_H_
#define DREAMSHOT_EVALUATOR_EMBEDDING_CACHE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/encoding_cache.h"
#include "evaluator/image8.h"
#include "evaluator/image_preprocess.h"

namespace dreamshot::evaluator {

struct Embedder {
  std::string kind;                 // "clip_image_features", "dino_cls": a key part
  std::string weights_fingerprint;  // core::WeightsFingerprint of the tower
  int64_t dim = 0;                  // D
  PreprocessSpec preprocessing;
  // pixel_values [B, 3, H, W] float32 → embeddings [B, D] (any device).
  std::function<absl::StatusOr<at::Tensor>(const at::Tensor& pixel_values)> embed;
};

struct ImageToEmbed {
  std::string name;    // names the image in errors
  std::string sha256;  // of its file's bytes: the cache key
  const Image8* image = nullptr;
};

struct EmbedStats {
  int64_t cached = 0;    // read from the cache
  int64_t computed = 0;  // run through the encoder (and stored)
};

// Embeddings [N, D] float32 on the CPU, in the images' order. `cache` may
// be null (nothing read or stored). Images not in the cache are embedded in
// batches of `batch_size`. INVALID_ARGUMENT for an embedder without a
// function, kind or dim, a batch size < 1, or an embedding of the wrong
// shape or with a NaN or infinity (naming the image: nothing of it is
// stored); a preprocessing error names the image too. Entries stored before
// an error stay, so a retry embeds only the rest.
absl::StatusOr<at::Tensor> EmbedImages(absl::Span<const ImageToEmbed> images, const Embedder& embedder,
                                       int64_t batch_size, core::EncodingCache* cache, EmbedStats* stats = nullptr);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_EMBEDDING_CACHE_H_

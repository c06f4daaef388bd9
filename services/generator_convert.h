// Proto <-> domain conversion for GeneratorService, with every check that
// needs no model: a bad request is refused before it is queued.
#ifndef DREAMSHOT_SERVICES_GENERATOR_CONVERT_H_
#define DREAMSHOT_SERVICES_GENERATOR_CONVERT_H_

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "diffusion/pipeline/image_generation.h"
#include "dreamshot/v1/generator.pb.h"
#include "experiments/types.h"

namespace dreamshot::services {

inline constexpr int kMaxImagesPerRequest = 1000;
inline constexpr int kMaxSide = 4096;
inline constexpr int kMaxSteps = 1000;
inline constexpr int kMaxBatchSize = 64;
inline constexpr int kMaxPairPrompts = 10000;

// Base path and LoRA files exist, device and dtype parse (NOT_FOUND /
// FAILED_PRECONDITION / INVALID_ARGUMENT naming the field).
absl::StatusOr<diffusion::ModelChoice> FromProto(const v1::ModelSpec& spec, const std::string& field);

struct GenerationSettings {
  diffusion::TextToImageRequest request;  // seeds filled in
  int64_t batch_size = 1;
};

// Fills the defaults (512², 25 steps, guidance 7.5, one image) and draws
// seeds when none are given, writing them back into `request` so that the
// stored params name every seed. `draw_seed` gives seeds in [0, 2^32).
absl::StatusOr<GenerationSettings> ResolveSettings(v1::GenerationRequest* request,
                                                   const std::function<uint64_t()>& draw_seed);

// The checks that need the model's configs but no weights data
// (diffusion::CheckModelForRequest): its configs and safetensors headers
// are sound, and its scheduler runs the request's sampler and steps (PNDM
// needs two or more). Errors are prefixed with `field` ("generation.model").
absl::Status CheckAgainstModel(const diffusion::ModelChoice& model, const GenerationSettings& settings,
                               const std::string& field);

void ToProto(const diffusion::RenderedImage& image, const experiments::Artifact& artifact, bool with_png,
             v1::GeneratedImage* out);
void ToProto(const diffusion::GenerationProgress& progress, v1::Progress* out);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_GENERATOR_CONVERT_H_

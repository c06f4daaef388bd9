// Generation requests as the services run them: the base model from the
// cache, its LoRA files applied for the duration, the pipeline run over
// the request's seeds a batch at a time, and every image encoded as a PNG
// that records what made it. A/B pairs run the same prompt and seeds
// through two models. Progress counts denoising steps over the whole
// request, so a client sees one bar from 0 to done.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_IMAGE_GENERATION_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_IMAGE_GENERATION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "diffusion/pipeline/applied_loras.h"
#include "diffusion/pipeline/generation_record.h"
#include "diffusion/pipeline/model_cache.h"
#include "diffusion/pipeline/text_to_image.h"

namespace dreamshot::diffusion {

// A base model plus LoRA files.
struct ModelChoice {
  ModelKey base;
  std::vector<LoraRef> loras;
};

struct RenderedImage {
  int64_t index = 0;  // position in the request's seeds
  uint64_t seed = 0;
  std::string png;
  GenerationRecord record;
};

struct GenerationProgress {
  int64_t done = 0, total = 0;  // denoising steps
  std::string stage;            // "preparing model" (load + LoRAs), "denoising"
};
// Returning false cancels the request (CANCELLED) at the next step.
using ProgressFn = std::function<bool(const GenerationProgress&)>;
using ImageFn = std::function<absl::Status(RenderedImage)>;

// `request.seeds` holds one seed per image (initial_latents must be unset);
// they run `batch_size` at a time and each image is handed to `on_image`
// as soon as its batch is decoded.
absl::Status RenderImages(ModelCache& cache, const ModelChoice& model, const TextToImageRequest& request,
                          int64_t batch_size, const ProgressFn& on_progress, const ImageFn& on_image);

struct PromptEntry {
  std::string prompt;
  std::string shot_type;
};

struct RenderedPair {
  PromptEntry prompt;
  uint64_t seed = 0;
  RenderedImage a, b;
};

struct PairPlan {
  ModelChoice a, b;
  std::vector<PromptEntry> prompts;
  TextToImageRequest settings;  // prompt ignored; seeds apply to every prompt
  int64_t batch_size = 1;
};

// For each prompt: side a over all seeds, then side b, then each pair to
// `on_pair` (so LoRAs are applied once per prompt and side, not per image).
absl::Status RenderPairs(ModelCache& cache, const PairPlan& plan, const ProgressFn& on_progress,
                         const std::function<absl::Status(RenderedPair)>& on_pair);

// Steps a request will run: images / batch (rounded up) × scheduler steps.
int64_t PlannedSteps(int64_t images, int64_t batch_size, int64_t steps);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_IMAGE_GENERATION_H_

// Text-to-image with classifier-free guidance, as diffusers'
// StableDiffusionPipeline: prompt and negative prompt through CLIP (77
// tokens, longer prompts truncated as upstream), the batch run as
// [negative…, positive…] through the UNet, guided = uncond + g·(text −
// uncond), any scheduler, VAE decode to [0, 1].
//
// Seeds: image k of a request owns a CPU generator seeded with seeds[k]. It
// draws the image's starting noise and, for stochastic samplers, its step
// noise, so an image depends on its seed only: the same seed gives the same
// noise in every run, at every batch position and on every device.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_TEXT_TO_IMAGE_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_TEXT_TO_IMAGE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "diffusion/pipeline/stable_diffusion_models.h"
#include "diffusion/schedulers/scheduler_factory.h"

namespace dreamshot::diffusion {

struct TextToImageRequest {
  std::string prompt;
  std::string negative_prompt;  // "" is the unconditional embedding, as upstream
  int64_t width = 512, height = 512;  // multiples of 8
  int64_t steps = 25;
  double guidance_scale = 7.5;  // ≤ 1: no classifier-free guidance
  // Text states from this many layers before the last (diffusers'
  // clip_skip; A1111's "Clip skip: 2" is 1 here), through the final norm.
  int64_t clip_skip = 0;
  SchedulerChoice scheduler;    // empty name: the model's own scheduler
  // One per image; an empty list means one image with seed 0 (with
  // initial_latents: seeds 0, 1, … for their batch).
  std::vector<uint64_t> seeds;
  // Starting noise [B, 4, H/8, W/8] instead of the seeded draw; scaled by
  // the scheduler's init_noise_sigma like the seeded one (upstream's
  // `latents` argument).
  at::Tensor initial_latents;
  bool keep_step_latents = false;
};

// Wall seconds per part of a run; total − the network calls is the
// pipeline's own overhead (scheduler steps, guidance, copies).
struct TextToImageTimings {
  double text_encoder_s = 0, unet_s = 0, vae_s = 0, total_s = 0;
  double overhead_s() const { return total_s - text_encoder_s - unet_s - vae_s; }
};

struct TextToImageResult {
  at::Tensor images;   // [B, 3, H, W] float32 in [0, 1], CPU
  at::Tensor latents;  // final latents [B, 4, H/8, W/8]
  std::vector<at::Tensor> step_latents;  // after each scheduler step, when asked
  at::Tensor prompt_embeds, negative_prompt_embeds;  // [1, 77, D]
  TextToImageTimings timings;
};

// Called after each step with (steps done, total steps); returning false
// cancels the run (CANCELLED) before the next step.
using StepCallback = std::function<bool(int64_t done, int64_t total)>;

// The checks that need no model (sizes, steps, guidance with a negative
// prompt, clip_skip ≥ 0): callers run them before queueing any work.
// GenerateImages runs them too, plus the model-dependent ones.
absl::Status ValidateTextToImageRequest(const TextToImageRequest& request);

absl::StatusOr<TextToImageResult> GenerateImages(StableDiffusionModels& models, const TextToImageRequest& request,
                                                 const StepCallback& on_step = nullptr);

// The starting noise: [seeds.size(), channels, h, w] float32 on the CPU,
// row k the first draw of a CPU generator seeded with seeds[k].
at::Tensor SeededNoise(const std::vector<uint64_t>& seeds, int64_t channels, int64_t h, int64_t w);

// CLIP embeddings of `prompts` ([N, 77, D]) the way the pipeline makes them.
absl::StatusOr<at::Tensor> EncodePrompts(StableDiffusionModels& models, const std::vector<std::string>& prompts,
                                         int64_t clip_skip = 0);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_TEXT_TO_IMAGE_H_

#include "diffusion/pipeline/text_to_image.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/caching_cpu_allocator.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {
absl::Status ValidateTextToImageRequest(const TextToImageRequest& r) {
  if (r.width <= 0 || r.height <= 0 || r.width % 8 != 0 || r.height % 8 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("width and height must be positive multiples of 8, got ", r.width, "×", r.height));
  }
  if (r.steps < 1) return absl::InvalidArgumentError(absl::StrCat("steps must be ≥ 1, got ", r.steps));
  if (!std::isfinite(r.guidance_scale)) return absl::InvalidArgumentError("guidance_scale must be finite");
  if (!r.negative_prompt.empty() && r.guidance_scale <= 1.0) {
    return absl::InvalidArgumentError(absl::StrCat("a negative prompt needs classifier-free guidance (guidance_scale > 1, got ",
                                                   r.guidance_scale, "); it would be ignored"));
  }
  if (r.clip_skip < 0) return absl::InvalidArgumentError(absl::StrCat("clip_skip must be ≥ 0, got ", r.clip_skip));
  return absl::OkStatus();
}

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::vector<at::Generator> SeededGenerators(const std::vector<uint64_t>& seeds) {
  std::vector<at::Generator> generators;
  generators.reserve(seeds.size());
  for (uint64_t seed : seeds) generators.push_back(at::detail::createCPUGenerator(seed));
  return generators;
}

at::Tensor SeededNoise(const std::vector<uint64_t>& seeds, int64_t channels, int64_t h, int64_t w) {
  PerSampleNoise noise(SeededGenerators(seeds));
  return noise.NoiseLike(torch::empty({static_cast<int64_t>(seeds.size()), channels, h, w}));
}

absl::StatusOr<at::Tensor> EncodePrompts(StableDiffusionModels& models, const std::vector<std::string>& prompts,
                                         int64_t clip_skip) {
  const int64_t layers = models.text_encoder->config().num_hidden_layers;
  if (clip_skip < 0 || clip_skip >= layers) {
    return absl::InvalidArgumentError(absl::StrCat("clip_skip must be in [0, ", layers - 1, "], got ", clip_skip));
  }
  torch::NoGradGuard no_grad;  // inference: the text encoder follows the caller's grad mode
  // Longer prompts are cut to the text encoder's 77 positions, as upstream.
  const models::clip::TokenizedBatch batch = models.tokenizer->Tokenize(prompts, /*max_length=*/77);
  const at::Tensor ids =
      torch::tensor(batch.input_ids, torch::kLong).view({batch.batch_size, batch.seq_len}).to(models.spec.device);
  ASSIGN_OR_RETURN(models::clip::ClipTextOutput out, models.text_encoder->Forward(ids, clip_skip > 0));
  if (clip_skip == 0) return out.last_hidden_state;
  // hidden_states: the embeddings, then every layer's output.
  return models.text_encoder->FinalLayerNorm(out.hidden_states[out.hidden_states.size() - 1 - clip_skip]);
}

absl::StatusOr<TextToImageResult> GenerateImages(StableDiffusionModels& models, const TextToImageRequest& request,
                                                 const StepCallback& on_step) {
  RETURN_IF_ERROR(ValidateTextToImageRequest(request));
  const Clock::time_point run_start = Clock::now();
  torch::NoGradGuard no_grad;
  const core::DeviceSpec& spec = models.spec;
  const int64_t channels = models.unet->config().in_channels;
  const int64_t factor = models.vae->config().downscale_factor();
  const int64_t h = request.height / factor, w = request.width / factor;

  at::Tensor initial = request.initial_latents;
  if (initial.defined()) {
    if (initial.dim() != 4 || initial.size(1) != channels || initial.size(2) != h || initial.size(3) != w) {
      return absl::InvalidArgumentError(absl::StrCat("initial_latents must be [B, ", channels, ", ", h, ", ", w,
                                                     "], got ", c10::str(initial.sizes())));
    }
  }
  const int64_t batch = initial.defined() ? initial.size(0) : std::max<int64_t>(1, request.seeds.size());
  std::vector<uint64_t> seeds = request.seeds;
  if (seeds.empty()) {
    for (int64_t k = 0; k < batch; ++k) seeds.push_back(static_cast<uint64_t>(k));
  } else if (static_cast<int64_t>(seeds.size()) != batch) {
    return absl::InvalidArgumentError(
        absl::StrCat(seeds.size(), " seeds for ", batch, " initial latents: give one seed per image"));
  }

  TextToImageResult result;
  Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(at::Tensor embeds, EncodePrompts(models, {request.negative_prompt, request.prompt}, request.clip_skip));
  result.timings.text_encoder_s = SecondsSince(start);
  result.negative_prompt_embeds = embeds.narrow(0, 0, 1);
  result.prompt_embeds = embeds.narrow(0, 1, 1);
  const bool guided = request.guidance_scale > 1.0;
  // [negative × B, positive × B] with guidance, else [positive × B].
  const at::Tensor context =
      guided ? torch::cat({result.negative_prompt_embeds.expand({batch, -1, -1}),
                           result.prompt_embeds.expand({batch, -1, -1})})
             : result.prompt_embeds.expand({batch, -1, -1}).contiguous();

  ASSIGN_OR_RETURN(std::unique_ptr<Scheduler> scheduler, CreateScheduler(request.scheduler, *models.scheduler_config));
  RETURN_IF_ERROR(scheduler->SetTimesteps(request.steps));
  // Each image's generator draws its starting noise, then its step noise.
  PerSampleNoise noise_source(SeededGenerators(seeds));
  const at::Tensor noise0 =
      initial.defined() ? initial.to(torch::kFloat) : noise_source.NoiseLike(torch::empty({batch, channels, h, w}));
  at::Tensor x = (noise0 * scheduler->init_noise_sigma()).to(spec.device, spec.dtype);

  const int64_t total = scheduler->num_steps();
  for (int64_t i = 0; i < total; ++i) {
    const at::Tensor model_in = scheduler->ScaleModelInput(guided ? torch::cat({x, x}) : x, i);
    start = Clock::now();
    ASSIGN_OR_RETURN(at::Tensor noise, models.unet->Forward(model_in, scheduler->timesteps()[i], context));
    result.timings.unet_s += SecondsSince(start);
    if (guided) {
      const auto halves = noise.chunk(2);
      noise = halves[0] + request.guidance_scale * (halves[1] - halves[0]);
    }
    ASSIGN_OR_RETURN(x, scheduler->Step(noise, i, x, &noise_source));
    if (request.keep_step_latents) result.step_latents.push_back(x);
    if (on_step && !on_step(i + 1, total)) {
      return absl::CancelledError(absl::StrCat("generation cancelled after step ", i + 1, " of ", total));
    }
  }
  result.latents = x;
  at::Tensor decoded;
  {
    // The decode runs once: cache pages only below the live peak so far, so
    // it does not stack a cache of UNet-shaped blocks on its own peak. The
    // headroom is this thread's: a job running beside this one keeps its own.
    core::ScopedCpuCacheHeadroom decode_headroom(0);
    start = Clock::now();
    ASSIGN_OR_RETURN(decoded, models.vae->Decode(x / models.vae->scaling_factor()));
    result.timings.vae_s = SecondsSince(start);
  }
  result.images = (decoded.to(torch::kCPU, torch::kFloat) / 2 + 0.5).clamp(0, 1);
  result.timings.total_s = SecondsSince(run_start);
  return result;
}

}  // namespace dreamshot::diffusion

// What can be checked about a Stable Diffusion model from its configs and
// safetensors headers alone, without reading tensor data or building a
// network: so a generation request with a broken model, or a sampler and
// step count the model's schedule cannot run, is refused before a run
// exists, and a load never sizes a network from an unchecked config.
//
// Every error is INVALID_ARGUMENT naming the file and the key (and the
// tensor, for shapes), except those of reading the files (NOT_FOUND, ...).
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_MODEL_CHECKS_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_MODEL_CHECKS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/clip/text_model.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot::diffusion {

// The prompt length the pipeline tokenizes to (CLIP's 77 positions).
inline constexpr int64_t kPromptTokens = 77;

// The three networks fit together: the text encoder's width is the UNet's
// cross_attention_dim, the VAE's latent_channels are the UNet's in and out
// channels, and the text encoder has the kPromptTokens positions the
// pipeline feeds it. `where` names the model in errors.
absl::Status CheckComponentsAgree(const models::clip::ClipTextConfig& text, const models::unet::UNetConfig& unet,
                                  const models::vae::VaeConfig& vae, const std::string& where);

// What a generation request asks of the model.
struct ModelRequest {
  SchedulerChoice scheduler;
  int64_t steps = 0;
  int64_t clip_skip = 0;
  int64_t width = 0, height = 0;  // pixels
};

// The model at `path` (a diffusers folder, or a single checkpoint with
// `config_dir`, as CheckModelFiles accepts): each network's config parsed
// and range-checked; for a folder with safetensors weights, the tensor
// names and shapes each config implies compared with the header of its
// weights file (pickled and single-file weights are compared when they are
// loaded); the networks agree (CheckComponentsAgree). Then the request: the
// scheduler config with its sampler and steps gives a valid schedule (e.g.
// PNDM needs two or more steps), clip_skip leaves a text encoder layer, and
// width and height are multiples of the VAE's downscale factor.
absl::Status CheckModelForRequest(const std::string& path, const std::string& config_dir,
                                  const ModelRequest& request);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_MODEL_CHECKS_H_

// The networks of one Stable Diffusion checkpoint, loaded together from a
// model source (diffusers folder, or single file + config folder) onto one
// device and dtype: tokenizer, text encoder, UNet, VAE and the scheduler
// config the pipeline builds its sampler from.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_STABLE_DIFFUSION_MODELS_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_STABLE_DIFFUSION_MODELS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/json_config.h"
#include "core/model_source.h"
#include "models/clip/text_model.h"
#include "models/clip/tokenizer.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot::diffusion {

struct StableDiffusionModels {
  std::optional<models::clip::ClipTokenizer> tokenizer;
  std::unique_ptr<models::clip::ClipTextModel> text_encoder;
  std::unique_ptr<models::unet::UNet2DConditionModel> unet;
  std::unique_ptr<models::vae::AutoencoderKL> vae;
  std::optional<core::JsonConfig> scheduler_config;  // always set by Load
  core::DeviceSpec spec;

  // Weights are converted to spec's dtype while they are copied in.
  static absl::StatusOr<StableDiffusionModels> Load(const core::ModelSource& source, const core::DeviceSpec& spec);
};

// The checks a request can pass before anything is read: `path` exists; a
// folder has every component sub-folder (FAILED_PRECONDITION naming the
// missing ones); a single checkpoint comes with `config_dir`, which does.
// NOT_FOUND for a missing path.
absl::Status CheckModelFiles(const std::string& path, const std::string& config_dir);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_STABLE_DIFFUSION_MODELS_H_

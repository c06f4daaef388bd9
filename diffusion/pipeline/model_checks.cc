#include "diffusion/pipeline/model_checks.h"

#include <filesystem>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/component_weights.h"
#include "core/json_config.h"
#include "core/status_macros.h"
#include "models/load_model.h"

namespace dreamshot::diffusion {
namespace {

bool IsDirectory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

// Component `name`'s config, checked against its weights' safetensors header
// when `weights_folder` (the model folder) is given and holds safetensors.
template <typename Model>
absl::StatusOr<typename Model::Config> CheckComponent(const std::string& config_folder,
                                                      const std::string& weights_folder, const std::string& name) {
  ASSIGN_OR_RETURN(core::JsonConfig json, core::JsonConfig::FromFile(absl::StrCat(config_folder, "/", name, "/config.json")));
  if (weights_folder.empty()) return Model::Config::FromJson(json);
  ASSIGN_OR_RETURN(typename Model::Config config, Model::Config::FromJson(json));
  ASSIGN_OR_RETURN(std::string weights, core::FindComponentWeights(absl::StrCat(weights_folder, "/", name)));
  ASSIGN_OR_RETURN(std::optional<core::TensorShapes> shapes, core::WeightsFileShapes(weights));
  if (shapes) RETURN_IF_ERROR(models::CheckWeightShapes(Model::ExpectedWeights(config), *shapes, json, weights));
  return config;
}

}  // namespace

absl::Status CheckComponentsAgree(const models::clip::ClipTextConfig& text, const models::unet::UNetConfig& unet,
                                  const models::vae::VaeConfig& vae, const std::string& where) {
  if (text.hidden_size != unet.cross_attention_dim) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": text_encoder hidden_size (", text.hidden_size,
                                                   ") differs from unet cross_attention_dim (",
                                                   unet.cross_attention_dim, ")"));
  }
  if (vae.latent_channels != unet.in_channels || vae.latent_channels != unet.out_channels) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": vae latent_channels (", vae.latent_channels,
                                                   ") differs from unet in_channels/out_channels (",
                                                   unet.in_channels, "/", unet.out_channels, ")"));
  }
  if (text.max_position_embeddings < kPromptTokens) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": text_encoder max_position_embeddings (",
                                                   text.max_position_embeddings, ") is below the ", kPromptTokens,
                                                   " prompt tokens the pipeline uses"));
  }
  return absl::OkStatus();
}

absl::Status CheckModelForRequest(const std::string& path, const std::string& config_dir,
                                  const ModelRequest& request) {
  const std::string configs = config_dir.empty() ? path : config_dir;
  // Headers are read for folders only: a single checkpoint's tensors need
  // renaming first, and a pickle must be unpickled; both happen at load.
  const std::string weights = IsDirectory(path) ? path : "";
  ASSIGN_OR_RETURN(models::unet::UNetConfig unet,
                   CheckComponent<models::unet::UNet2DConditionModel>(configs, weights, "unet"));
  ASSIGN_OR_RETURN(models::vae::VaeConfig vae, CheckComponent<models::vae::AutoencoderKL>(configs, weights, "vae"));
  const int64_t factor = vae.downscale_factor();
  if (request.width % factor != 0 || request.height % factor != 0) {
    return absl::InvalidArgumentError(absl::StrCat("width and height must be multiples of ", factor,
                                                   " for this VAE (", vae.block_out_channels.size(),
                                                   " blocks), got ", request.width, "×", request.height));
  }
  // A single checkpoint's text encoder config may come from its own folder;
  // when the config folder has none the load reports it.
  if (!weights.empty() || IsDirectory(configs + "/text_encoder")) {
    ASSIGN_OR_RETURN(models::clip::ClipTextConfig text,
                     CheckComponent<models::clip::ClipTextModel>(configs, weights, "text_encoder"));
    RETURN_IF_ERROR(CheckComponentsAgree(text, unet, vae, configs));
    if (request.clip_skip < 0 || request.clip_skip >= text.num_hidden_layers) {
      return absl::InvalidArgumentError(absl::StrCat("clip_skip must be in [0, ", text.num_hidden_layers - 1,
                                                     "] for this text encoder, got ", request.clip_skip));
    }
  }
  ASSIGN_OR_RETURN(core::JsonConfig scheduler_json,
                   core::JsonConfig::FromFile(configs + "/scheduler/scheduler_config.json"));
  ASSIGN_OR_RETURN(std::unique_ptr<Scheduler> sampler, CreateScheduler(request.scheduler, scheduler_json));
  absl::Status schedule = sampler->SetTimesteps(request.steps);
  if (!schedule.ok()) {
    return absl::Status(schedule.code(), absl::StrCat("steps ", request.steps, " with the ", sampler->name(), " of ",
                                                      scheduler_json.source(), ": ", schedule.message()));
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::diffusion

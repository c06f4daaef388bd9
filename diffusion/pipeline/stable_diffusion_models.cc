#include "diffusion/pipeline/stable_diffusion_models.h"

#include <torch/torch.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/model_checks.h"
#include "models/load_model.h"

namespace dreamshot::diffusion {

absl::StatusOr<StableDiffusionModels> StableDiffusionModels::Load(const core::ModelSource& source,
                                                                  const core::DeviceSpec& spec) {
  StableDiffusionModels m;
  m.spec = spec;
  ASSIGN_OR_RETURN(std::string tokenizer_dir, source.ComponentDir("tokenizer"));
  ASSIGN_OR_RETURN(m.tokenizer, models::clip::ClipTokenizer::FromFolder(tokenizer_dir));
  ASSIGN_OR_RETURN(m.scheduler_config, source.ComponentConfig("scheduler"));
  {
    // Every config is checked, against its weights' shapes and against the
    // other networks, before any network is sized from one.
    ASSIGN_OR_RETURN(models::unet::UNetConfig unet,
                     models::CheckComponentConfig<models::unet::UNet2DConditionModel>(source, "unet"));
    ASSIGN_OR_RETURN(models::vae::VaeConfig vae, models::CheckComponentConfig<models::vae::AutoencoderKL>(source, "vae"));
    ASSIGN_OR_RETURN(models::clip::ClipTextConfig text,
                     models::CheckComponentConfig<models::clip::ClipTextModel>(source, "text_encoder"));
    RETURN_IF_ERROR(CheckComponentsAgree(text, unet, vae, source.path()));
  }

  ASSIGN_OR_RETURN(m.text_encoder,
                   models::LoadModelComponent<models::clip::ClipTextModel>(source, "text_encoder", spec));
  ASSIGN_OR_RETURN(m.unet, models::LoadModelComponent<models::unet::UNet2DConditionModel>(source, "unet", spec));
  ASSIGN_OR_RETURN(m.vae, models::LoadModelComponent<models::vae::AutoencoderKL>(source, "vae", spec));
  return m;
}

namespace {

absl::Status CheckComponentFolders(const std::string& folder, const std::vector<std::string>& components,
                                   const std::string& what) {
  std::vector<std::string> missing;
  for (const std::string& c : components) {
    if (!std::filesystem::is_directory(std::filesystem::path(folder) / c)) missing.push_back(c + "/");
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(what, " ", folder, " lacks ", absl::StrJoin(missing, ", "),
                                                    " (a Stable Diffusion model needs text_encoder/, tokenizer/, "
                                                    "unet/, vae/ and scheduler/)"));
}

}  // namespace

absl::Status CheckModelFiles(const std::string& path, const std::string& config_dir) {
  std::error_code ec;
  if (path.empty()) return absl::InvalidArgumentError("no base model given");
  if (!std::filesystem::exists(path, ec)) return absl::NotFoundError(absl::StrCat("no model at ", path));
  if (std::filesystem::is_directory(path, ec)) {
    return CheckComponentFolders(path, {"text_encoder", "tokenizer", "unet", "vae", "scheduler"}, "model folder");
  }
  if (config_dir.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "single checkpoint ", path,
        " needs a config folder (config_dir: a diffusers folder of the same architecture) for its UNet/VAE "
        "configs, tokenizer and scheduler"));
  }
  if (!std::filesystem::is_directory(config_dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no config folder at ", config_dir));
  }
  return CheckComponentFolders(config_dir, {"tokenizer", "unet", "vae", "scheduler"}, "config folder");
}

}  // namespace dreamshot::diffusion

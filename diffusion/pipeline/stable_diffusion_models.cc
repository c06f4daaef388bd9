#include "diffusion/pipeline/stable_diffusion_models.h"

#include <torch/torch.h>

#include "core/status_macros.h"

namespace dreamshot::diffusion {

absl::StatusOr<StableDiffusionModels> StableDiffusionModels::Load(const core::ModelSource& source,
                                                                  const core::DeviceSpec& spec) {
  StableDiffusionModels m;
  m.spec = spec;
  ASSIGN_OR_RETURN(std::string tokenizer_dir, source.ComponentDir("tokenizer"));
  ASSIGN_OR_RETURN(m.tokenizer, models::clip::ClipTokenizer::FromFolder(tokenizer_dir));
  ASSIGN_OR_RETURN(m.scheduler_config, source.ComponentConfig("scheduler"));

  ASSIGN_OR_RETURN(core::JsonConfig text_json, source.ComponentConfig("text_encoder"));
  ASSIGN_OR_RETURN(auto text_config, models::clip::ClipTextConfig::FromJson(text_json));
  ASSIGN_OR_RETURN(m.text_encoder, models::clip::ClipTextModel::Create(text_config, spec));
  {
    ASSIGN_OR_RETURN(auto tensors, source.LoadComponentAsStored("text_encoder", spec.device));
    RETURN_IF_ERROR(m.text_encoder->LoadWeights(tensors, source.path()));
  }
  ASSIGN_OR_RETURN(core::JsonConfig unet_json, source.ComponentConfig("unet"));
  ASSIGN_OR_RETURN(auto unet_config, models::unet::UNetConfig::FromJson(unet_json));
  ASSIGN_OR_RETURN(m.unet, models::unet::UNet2DConditionModel::Create(unet_config, spec));
  {
    ASSIGN_OR_RETURN(auto tensors, source.LoadComponentAsStored("unet", spec.device));
    RETURN_IF_ERROR(m.unet->LoadWeights(tensors, source.path()));
  }
  ASSIGN_OR_RETURN(core::JsonConfig vae_json, source.ComponentConfig("vae"));
  ASSIGN_OR_RETURN(auto vae_config, models::vae::VaeConfig::FromJson(vae_json));
  ASSIGN_OR_RETURN(m.vae, models::vae::AutoencoderKL::Create(vae_config, spec));
  {
    ASSIGN_OR_RETURN(auto tensors, source.LoadComponentAsStored("vae", spec.device));
    RETURN_IF_ERROR(m.vae->LoadWeights(tensors, source.path()));
  }
  return m;
}

}  // namespace dreamshot::diffusion

#include "diffusion/pipeline/stable_diffusion_models.h"

#include <torch/torch.h>

#include "core/status_macros.h"
#include "models/load_model.h"

namespace dreamshot::diffusion {

absl::StatusOr<StableDiffusionModels> StableDiffusionModels::Load(const core::ModelSource& source,
                                                                  const core::DeviceSpec& spec) {
  StableDiffusionModels m;
  m.spec = spec;
  ASSIGN_OR_RETURN(std::string tokenizer_dir, source.ComponentDir("tokenizer"));
  ASSIGN_OR_RETURN(m.tokenizer, models::clip::ClipTokenizer::FromFolder(tokenizer_dir));
  ASSIGN_OR_RETURN(m.scheduler_config, source.ComponentConfig("scheduler"));

  ASSIGN_OR_RETURN(m.text_encoder,
                   models::LoadModelComponent<models::clip::ClipTextModel>(source, "text_encoder", spec));
  ASSIGN_OR_RETURN(m.unet, models::LoadModelComponent<models::unet::UNet2DConditionModel>(source, "unet", spec));
  ASSIGN_OR_RETURN(m.vae, models::LoadModelComponent<models::vae::AutoencoderKL>(source, "vae", spec));
  return m;
}

}  // namespace dreamshot::diffusion

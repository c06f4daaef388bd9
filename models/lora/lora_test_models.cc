#include "models/lora/lora_test_models.h"

#include "core/component_weights.h"
#include "core/json_config.h"
#include "core/status_macros.h"
#include "core/testdata_paths.h"

namespace dreamshot::models::lora {

absl::StatusOr<std::unique_ptr<unet::UNet2DConditionModel>> LoadReferenceUNet(const core::DeviceSpec& spec) {
  const std::string folder = core::ReferencePath("tiny_sd/unet");
  ASSIGN_OR_RETURN(core::JsonConfig json, core::JsonConfig::FromFile(folder + "/config.json"));
  ASSIGN_OR_RETURN(unet::UNetConfig config, unet::UNetConfig::FromJson(json));
  ASSIGN_OR_RETURN(auto model, unet::UNet2DConditionModel::Create(config, spec));
  ASSIGN_OR_RETURN(auto weights, core::LoadComponentWeights(folder, spec));
  RETURN_IF_ERROR(model->LoadWeights(weights, folder));
  return model;
}

absl::StatusOr<std::unique_ptr<clip::ClipTextModel>> LoadReferenceTextEncoder(const core::DeviceSpec& spec) {
  const std::string folder = core::ReferencePath("tiny_sd/text_encoder");
  ASSIGN_OR_RETURN(core::JsonConfig json, core::JsonConfig::FromFile(folder + "/config.json"));
  ASSIGN_OR_RETURN(clip::ClipTextConfig config, clip::ClipTextConfig::FromJson(json));
  ASSIGN_OR_RETURN(auto model, clip::ClipTextModel::Create(config, spec));
  ASSIGN_OR_RETURN(auto weights, core::LoadComponentWeights(folder, spec));
  RETURN_IF_ERROR(model->LoadWeights(weights, folder));
  return model;
}

std::string ReferenceLoraPath(const std::string& file) { return core::ReferencePath("lora/" + file); }

}  // namespace dreamshot::models::lora

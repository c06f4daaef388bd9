#include "models/lora/lora_test_models.h"

#include "core/testdata_paths.h"
#include "models/load_model.h"

namespace dreamshot::models::lora {

absl::StatusOr<std::unique_ptr<unet::UNet2DConditionModel>> LoadReferenceUNet(const core::DeviceSpec& spec) {
  return LoadModelFromFolder<unet::UNet2DConditionModel>(core::ReferencePath("tiny_sd/unet"), spec);
}

absl::StatusOr<std::unique_ptr<clip::ClipTextModel>> LoadReferenceTextEncoder(const core::DeviceSpec& spec) {
  return LoadModelFromFolder<clip::ClipTextModel>(core::ReferencePath("tiny_sd/text_encoder"), spec);
}

std::string ReferenceLoraPath(const std::string& file) { return core::ReferencePath("lora/" + file); }

}  // namespace dreamshot::models::lora

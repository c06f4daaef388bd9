// The reference tiny UNet and text encoder (../shared/reference/tiny_sd) for
// the LoRA tests.
#ifndef DREAMSHOT_MODELS_LORA_LORA_TEST_MODELS_H_
#define DREAMSHOT_MODELS_LORA_LORA_TEST_MODELS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "models/clip/text_model.h"
#include "models/unet/unet_2d_condition.h"

namespace dreamshot::models::lora {

absl::StatusOr<std::unique_ptr<unet::UNet2DConditionModel>> LoadReferenceUNet(
    const core::DeviceSpec& spec = {});
absl::StatusOr<std::unique_ptr<clip::ClipTextModel>> LoadReferenceTextEncoder(
    const core::DeviceSpec& spec = {});
// ReferencePath("lora/" + file).
std::string ReferenceLoraPath(const std::string& file);

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_TEST_MODELS_H_

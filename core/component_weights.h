// The weights of one model component folder as published by diffusers /
// transformers: `model.safetensors` or `diffusion_pytorch_model.safetensors`
// (fp16 variants too). The first piece of the model-source abstraction;
// `.bin` files, sharded indexes and single-file checkpoints come next.
#ifndef DREAMSHOT_CORE_COMPONENT_WEIGHTS_H_
#define DREAMSHOT_CORE_COMPONENT_WEIGHTS_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"

namespace dreamshot::core {

// The weights file of a component folder; NOT_FOUND lists what was looked for.
absl::StatusOr<std::string> FindComponentWeights(const std::string& folder);

// Loads every tensor of the component, floating-point ones converted to
// spec.dtype, on spec.device.
absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentWeights(const std::string& folder,
                                                                       const DeviceSpec& spec);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_COMPONENT_WEIGHTS_H_

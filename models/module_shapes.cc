#include "models/module_shapes.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace dreamshot::models {

core::TensorShapes ModuleTensorShapes(torch::nn::Module& module) {
  core::TensorShapes shapes;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) shapes[p.key()] = p.value().sizes().vec();
  for (const auto& b : module.named_buffers(/*recurse=*/true)) shapes[b.key()] = b.value().sizes().vec();
  return shapes;
}

absl::Status CheckExpectedMatchesModule(const ExpectedTensors& expected, torch::nn::Module& module) {
  const core::TensorShapes shapes = ModuleTensorShapes(module);
  for (const auto& [name, tensor] : expected.tensors()) {
    if (tensor.optional && shapes.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("optional ", name, " is not in the module"));
    }
  }
  return CheckWeightShapes(expected, shapes, core::JsonConfig::FromString("{}", "the config").value(), "the module");
}

}  // namespace dreamshot::models

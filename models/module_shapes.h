// Test helper: a built module's parameters and buffers by name and shape,
// to compare with what ExpectedWeights(config) computes without building.
#ifndef DREAMSHOT_MODELS_MODULE_SHAPES_H_
#define DREAMSHOT_MODELS_MODULE_SHAPES_H_

#include "absl/status/status.h"
#include "core/component_weights.h"
#include "models/expected_tensors.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models {

core::TensorShapes ModuleTensorShapes(torch::nn::Module& module);

// OK when `expected` lists exactly the module's tensors (optional ones
// included) with their shapes; else the difference, as CheckWeightShapes
// words it.
absl::Status CheckExpectedMatchesModule(const ExpectedTensors& expected, torch::nn::Module& module);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_MODULE_SHAPES_H_

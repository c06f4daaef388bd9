// Building a network with its weights: config.json → Config::FromJson (keys
// and ranges) → the tensor shapes the config implies compared with the
// weights' (ExpectedWeights, models/expected_tensors.h) → Model::Create →
// LoadWeights, from a diffusers component folder
// (tiny_sd/unet) or a component of a model source (which also covers
// single-file checkpoints). Weights keep the file's dtype until they are
// copied into the modules, which convert while copying. Works for every
// model class with a `Config` type, `ExpectedWeights(config)`,
// `Create(config, spec)` and `LoadWeights(tensors, source)`:
// UNet2DConditionModel, AutoencoderKL, ClipTextModel.
#ifndef DREAMSHOT_MODELS_LOAD_MODEL_H_
#define DREAMSHOT_MODELS_LOAD_MODEL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/component_weights.h"
#include "core/device.h"
#include "core/json_config.h"
#include "core/model_source.h"
#include "core/status_macros.h"
#include "models/expected_tensors.h"

namespace dreamshot::models {

// Builds the module and copies the weights in (converting their dtype).
template <typename Model>
absl::StatusOr<std::unique_ptr<Model>> BuildModel(const typename Model::Config& config,
                                                  const std::map<std::string, at::Tensor>& weights,
                                                  const core::DeviceSpec& spec, const std::string& source) {
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(config, spec));
  RETURN_IF_ERROR(model->LoadWeights(weights, source));
  return model;
}

// Checks the config, then loads the weights with `load` and builds the
// model. The config is parsed and range-checked first, then compared with
// `header_shapes()` (the safetensors header; called only after the config
// passed) before anything is read, or, when that gives nullopt (pickled
// weights), with the loaded tensors, before any module is built.
template <typename Model, typename ShapesFn, typename LoadFn>
absl::StatusOr<std::unique_ptr<Model>> CheckLoadBuild(const core::JsonConfig& json, const std::string& weights_path,
                                                      ShapesFn header_shapes, LoadFn load,
                                                      const core::DeviceSpec& spec, const std::string& source) {
  ASSIGN_OR_RETURN(typename Model::Config config, Model::Config::FromJson(json));
  const ExpectedTensors expected = Model::ExpectedWeights(config);
  ASSIGN_OR_RETURN(std::optional<core::TensorShapes> shapes, header_shapes());
  if (shapes) RETURN_IF_ERROR(CheckWeightShapes(expected, *shapes, json, weights_path));
  ASSIGN_OR_RETURN(auto weights, load());
  if (!shapes) RETURN_IF_ERROR(CheckWeightShapes(expected, core::ShapesOf(weights), json, weights_path));
  return BuildModel<Model>(config, weights, spec, source);
}

// Component `name` of a model source: its config parsed and range-checked,
// and compared with the weights' tensor shapes where they are known without
// loading (ModelSource::ComponentShapes); builds and loads nothing.
template <typename Model>
absl::StatusOr<typename Model::Config> CheckComponentConfig(const core::ModelSource& source,
                                                            const std::string& name) {
  ASSIGN_OR_RETURN(core::JsonConfig json, source.ComponentConfig(name));
  ASSIGN_OR_RETURN(typename Model::Config config, Model::Config::FromJson(json));
  ASSIGN_OR_RETURN(std::optional<core::TensorShapes> shapes, source.ComponentShapes(name));
  if (shapes) {
    ASSIGN_OR_RETURN(std::string weights_path, source.ComponentWeightsPath(name));
    RETURN_IF_ERROR(CheckWeightShapes(Model::ExpectedWeights(config), *shapes, json, weights_path));
  }
  return config;
}

// A diffusers component folder: config.json + its weight file(s).
template <typename Model>
absl::StatusOr<std::unique_ptr<Model>> LoadModelFromFolder(const std::string& folder, const core::DeviceSpec& spec) {
  ASSIGN_OR_RETURN(core::JsonConfig json, core::JsonConfig::FromFile(folder + "/config.json"));
  ASSIGN_OR_RETURN(std::string weights_path, core::FindComponentWeights(folder));
  return CheckLoadBuild<Model>(
      json, weights_path, [&] { return core::WeightsFileShapes(weights_path); },
      [&] { return core::LoadWeightsFile(weights_path, core::TensorPlacement::AsStored(spec.device)); }, spec,
      folder);
}

// Component `name` ("unet", "vae", "text_encoder") of a model source.
template <typename Model>
absl::StatusOr<std::unique_ptr<Model>> LoadModelComponent(const core::ModelSource& source, const std::string& name,
                                                           const core::DeviceSpec& spec) {
  ASSIGN_OR_RETURN(core::JsonConfig json, source.ComponentConfig(name));
  ASSIGN_OR_RETURN(std::string weights_path, source.ComponentWeightsPath(name));
  return CheckLoadBuild<Model>(
      json, weights_path, [&] { return source.ComponentShapes(name); },
      [&] { return source.LoadComponentAsStored(name, spec.device); }, spec, source.path());
}

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_LOAD_MODEL_H_

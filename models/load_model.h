// Building a network with its weights: config.json → Config::FromJson →
// Model::Create → LoadWeights, from a diffusers component folder
// (tiny_sd/unet) or a component of a model source (which also covers
// single-file checkpoints). Weights keep the file's dtype until they are
// copied into the modules, which convert while copying. Works for every
// model class with a `Config` type, `Create(config, spec)` and
// `LoadWeights(tensors, source)`: UNet2DConditionModel, AutoencoderKL,
// ClipTextModel.
#ifndef DREAMSHOT_MODELS_LOAD_MODEL_H_
#define DREAMSHOT_MODELS_LOAD_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/component_weights.h"
#include "core/device.h"
#include "core/json_config.h"
#include "core/model_source.h"
#include "core/status_macros.h"

namespace dreamshot::models {

template <typename Model>
absl::StatusOr<std::unique_ptr<Model>> BuildModel(const core::JsonConfig& config_json,
                                                  const std::map<std::string, at::Tensor>& weights,
                                                  const core::DeviceSpec& spec, const std::string& source) {
  ASSIGN_OR_RETURN(typename Model::Config config, Model::Config::FromJson(config_json));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(config, spec));
  RETURN_IF_ERROR(model->LoadWeights(weights, source));
  return model;
}

// A diffusers component folder: config.json + its weight file(s).
template <typename Model>
absl::StatusOr<std::unique_ptr<Model>> LoadModelFromFolder(const std::string& folder, const core::DeviceSpec& spec) {
  ASSIGN_OR_RETURN(core::JsonConfig json, core::JsonConfig::FromFile(folder + "/config.json"));
  ASSIGN_OR_RETURN(auto weights, core::LoadComponentWeights(folder, core::TensorPlacement::AsStored(spec.device)));
  return BuildModel<Model>(json, weights, spec, folder);
}

// Component `name` ("unet", "vae", "text_encoder") of a model source.
template <typename Model>
absl::StatusOr<std::unique_ptr<Model>> LoadModelComponent(const core::ModelSource& source, const std::string& name,
                                                           const core::DeviceSpec& spec) {
  ASSIGN_OR_RETURN(core::JsonConfig json, source.ComponentConfig(name));
  ASSIGN_OR_RETURN(auto weights, source.LoadComponentAsStored(name, spec.device));
  return BuildModel<Model>(json, weights, spec, source.path());
}

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_LOAD_MODEL_H_

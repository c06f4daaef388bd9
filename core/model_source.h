// Where a base model comes from, behind one interface:
//   * a diffusers folder (model_index.json + one sub-folder per component,
//     each with its config and weights: *.safetensors, fp16 variants,
//     sharded *.index.json, or PyTorch pytorch_model.bin /
//     diffusion_pytorch_model.bin, see core/component_weights.h);
//   * a single original-LDM checkpoint (.safetensors, .ckpt, .bin, .pth,
//     .pt) whose keys start with model.diffusion_model. / first_stage_model.
//     / cond_stage_model. Its tensors are renamed to diffusers names on load
//     (core/ldm_key_mapping.h).
// A single file carries no configs: the UNet and VAE renames need block
// counts from their config.json, so ComponentConfig and LoadComponent for
// "unet"/"vae" are FAILED_PRECONDITION unless Open was given `config_dir`,
// a diffusers folder of the same architecture providing the configs (and
// the tokenizer / scheduler). The text encoder loads without it.
//
// Component names: "unet", "vae", "text_encoder", "tokenizer", "scheduler".
// Errors name the path: NOT_FOUND for a missing path or component,
// INVALID_ARGUMENT for an unknown layout or keys no rule covers.
#ifndef DREAMSHOT_CORE_MODEL_SOURCE_H_
#define DREAMSHOT_CORE_MODEL_SOURCE_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/component_weights.h"
#include "core/device.h"
#include "core/json_config.h"

namespace dreamshot::core {

enum class ModelSourceKind { kDiffusersFolder, kLdmSingleFile };

class ModelSource {
 public:
  // `config_dir` (optional, single files only): a diffusers folder whose
  // component configs describe the checkpoint. A single .ckpt/.bin is read
  // (unpickled) here, once; a .safetensors file is memory-mapped.
  static absl::StatusOr<ModelSource> Open(const std::string& path, const std::string& config_dir = "");

  ModelSourceKind kind() const;
  const std::string& path() const;

  // Folder: the component sub-folder exists. Single file: the checkpoint has
  // keys under the component's LDM prefix ("unet", "vae", "text_encoder"),
  // or config_dir has the folder ("tokenizer", "scheduler").
  bool HasComponent(const std::string& name) const;

  // The folder holding the component's files (for the tokenizer: its
  // vocab.json and merges.txt); errors as ComponentConfig.
  absl::StatusOr<std::string> ComponentDir(const std::string& name) const;

  // The component's config.json (scheduler_config.json /
  // tokenizer_config.json for those two). Single file without config_dir:
  // FAILED_PRECONDITION.
  absl::StatusOr<JsonConfig> ComponentConfig(const std::string& name) const;

  // The file the component's weights come from (a folder's weights file or
  // shard index, or the single checkpoint), as errors name it.
  absl::StatusOr<std::string> ComponentWeightsPath(const std::string& name) const;

  // The names (diffusers) and shapes of the component's tensors, to check a
  // config against before any module is built. Folder: from the
  // safetensors header(s), no tensor data read; nullopt for PyTorch .bin
  // weights, whose shapes are known only after LoadComponent*. Single file:
  // the renamed tensors as stored, on the CPU (views of the mapped
  // .safetensors, or the tensors unpickled at Open), so nothing is copied.
  absl::StatusOr<std::optional<TensorShapes>> ComponentShapes(const std::string& name) const;

  // The component's tensors under diffusers names; floating-point ones in
  // spec.dtype, all on spec.device. For a single file the text encoder's
  // position_ids are made int64 (some checkpoints store them as floats) and
  // are synthesized (arange) when absent; VAE training-loss keys
  // (first_stage_model.loss.*) are ignored; any other key no rule covers is
  // INVALID_ARGUMENT.
  absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponent(const std::string& name,
                                                                  const DeviceSpec& spec) const;

  // As LoadComponent, but floating-point tensors keep the checkpoint's dtype
  // (zero-copy views of a mapped .safetensors on the CPU). The fast way to
  // fill modules: their LoadWeights converts while copying (SD 1.5 fp16
  // single file into fp32 modules, bench/load_benchmark).
  absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentAsStored(const std::string& name,
                                                                          c10::Device device) const;

 private:
  struct Impl;
  absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentTo(const std::string& name,
                                                                    const TensorPlacement& placement) const;
  explicit ModelSource(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_MODEL_SOURCE_H_

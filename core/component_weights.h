// The weights of one model component folder as published by diffusers /
// transformers, in this order of preference:
//   model.safetensors, diffusion_pytorch_model.safetensors, their .fp16.
//   variants, sharded *.safetensors.index.json, then PyTorch checkpoints
//   pytorch_model.bin / diffusion_pytorch_model.bin (+ .fp16.), and sharded
//   *.bin.index.json.
// `.bin` files are read through core/torch_pickle.h, with its limit: LibTorch
// 1.13 cannot unpickle Python OrderedDict state dicts. Whole-model folders
// and single-file checkpoints are core/model_source.h.
#ifndef DREAMSHOT_CORE_COMPONENT_WEIGHTS_H_
#define DREAMSHOT_CORE_COMPONENT_WEIGHTS_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/device.h"

namespace dreamshot::core {

// Where loaded tensors go: all to `device`; floating-point ones converted to
// `float_dtype` when set, else kept in the checkpoint's dtype (on the CPU,
// safetensors tensors are then zero-copy views of the mapped file). Loading
// into modules wants the latter: LoadWeights converts while it copies, so the
// checkpoint is never materialised a second time in the module's dtype.
struct TensorPlacement {
  c10::Device device = c10::Device(c10::kCPU);
  std::optional<c10::ScalarType> float_dtype;

  static TensorPlacement Of(const DeviceSpec& spec) { return {spec.device, spec.dtype}; }
  static TensorPlacement AsStored(c10::Device device) { return {device, std::nullopt}; }
  std::string ToString() const;
};

// The weights file (or shard index) of a component folder; NOT_FOUND names
// the folder and lists what was looked for.
absl::StatusOr<std::string> FindComponentWeights(const std::string& folder);

// Tensor names and shapes, as a config is checked against them before a
// module is built.
using TensorShapes = std::map<std::string, std::vector<int64_t>>;
TensorShapes ShapesOf(const std::map<std::string, at::Tensor>& tensors);

// The names and shapes of a weights file's tensors without reading their
// data: from the safetensors header (of every shard, for a *.safetensors
// index). nullopt for PyTorch pickles (.bin/.ckpt/.pth/.pt, also as shards),
// whose shapes are known only once they are unpickled. Errors as
// LoadWeightsFile.
absl::StatusOr<std::optional<TensorShapes>> WeightsFileShapes(const std::string& path);

// Loads every tensor of the component, floating-point ones converted to
// spec.dtype, on spec.device.
absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentWeights(const std::string& folder,
                                                                       const DeviceSpec& spec);
absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentWeights(const std::string& folder,
                                                                       const TensorPlacement& placement);

// Reads one weights file by its extension (.safetensors; .bin/.ckpt/.pth/.pt;
// a *.index.json shard index) and places the tensors as above.
absl::StatusOr<std::map<std::string, at::Tensor>> LoadWeightsFile(const std::string& path, const DeviceSpec& spec);
absl::StatusOr<std::map<std::string, at::Tensor>> LoadWeightsFile(const std::string& path,
                                                                  const TensorPlacement& placement);

// Floating-point tensors to spec.dtype, every tensor to spec.device.
absl::StatusOr<std::map<std::string, at::Tensor>> PlaceTensors(std::map<std::string, at::Tensor> tensors,
                                                               const DeviceSpec& spec, const std::string& source);
absl::StatusOr<std::map<std::string, at::Tensor>> PlaceTensors(std::map<std::string, at::Tensor> tensors,
                                                               const TensorPlacement& placement,
                                                               const std::string& source);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_COMPONENT_WEIGHTS_H_

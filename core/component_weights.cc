#include "core/component_weights.h"

#include <sys/stat.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "core/torch_pickle.h"

namespace dreamshot::core {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

struct ShardIndex {
  std::map<std::string, std::string> owner;  // tensor name → shard file name
  std::set<std::string> shards;
};

// A transformers/diffusers shard index: {"weight_map": {"name": "file", ...}}.
absl::StatusOr<ShardIndex> ReadShardIndex(const std::string& index_path) {
  std::ifstream in(index_path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", index_path));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json index = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") ||
      !index["weight_map"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(index_path, ": not a shard index (no weight_map object)"));
  }
  ShardIndex out;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) return absl::InvalidArgumentError(absl::StrCat(index_path, ": weight_map.", name));
    const std::string shard = file.get<std::string>();
    if (shard.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": shard name with a folder: ", shard));
    }
    out.owner[name] = shard;
    out.shards.insert(shard);
  }
  return out;
}

// Every tensor the index names must be in the shard it names.
template <typename Map>
absl::Status CheckShardsComplete(const ShardIndex& index, const Map& all, const std::string& index_path) {
  for (const auto& [name, shard] : index.owner) {
    if (all.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": tensor ", name, " not found in shard ", shard));
    }
  }
  return absl::OkStatus();
}

bool IsShardIndex(const std::string& path) {
  return absl::StrContains(path, ".index.") && absl::EndsWith(path, ".json");
}

bool IsPickle(const std::string& path) {
  for (const char* ext : {".bin", ".ckpt", ".pth", ".pt"}) {
    if (absl::EndsWith(path, ext)) return true;
  }
  return false;
}

absl::Status UnknownType(const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": unknown weights file type (expected .safetensors, .bin, .ckpt, .pth, .pt or .index.json)"));
}

absl::StatusOr<std::map<std::string, at::Tensor>> LoadSharded(const std::string& index_path,
                                                              const TensorPlacement& spec) {
  ASSIGN_OR_RETURN(ShardIndex index, ReadShardIndex(index_path));
  std::map<std::string, at::Tensor> all;
  for (const std::string& shard : index.shards) {
    ASSIGN_OR_RETURN(auto tensors, LoadWeightsFile(absl::StrCat(Dirname(index_path), "/", shard), spec));
    for (auto& [name, tensor] : tensors) all.emplace(name, std::move(tensor));
  }
  RETURN_IF_ERROR(CheckShardsComplete(index, all, index_path));
  return all;
}

}  // namespace

std::string TensorPlacement::ToString() const {
  return float_dtype ? DeviceSpec{device, *float_dtype}.ToString() : device.str() + "/stored dtype";
}

absl::StatusOr<std::map<std::string, at::Tensor>> PlaceTensors(std::map<std::string, at::Tensor> tensors,
                                                               const TensorPlacement& spec,
                                                               const std::string& source) {
  try {
    for (auto& [name, tensor] : tensors) {
      tensor = tensor.is_floating_point() && spec.float_dtype ? tensor.to(spec.device, *spec.float_dtype)
                                                              : tensor.to(spec.device);
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat(source, ": moving tensors to ", spec.ToString(), ": ", e.what_without_backtrace()));
  }
  return tensors;
}

absl::StatusOr<std::map<std::string, at::Tensor>> LoadWeightsFile(const std::string& path,
                                                                  const TensorPlacement& spec) {
  if (IsShardIndex(path)) return LoadSharded(path, spec);
  if (absl::EndsWith(path, ".safetensors")) {
    ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
    return file.LoadAll(spec.float_dtype, spec.device);
  }
  if (IsPickle(path)) {
    ASSIGN_OR_RETURN(auto tensors, ReadTorchStateDict(path));
    return PlaceTensors(std::move(tensors), spec, path);
  }
  return UnknownType(path);
}

TensorShapes ShapesOf(const std::map<std::string, at::Tensor>& tensors) {
  TensorShapes shapes;
  for (const auto& [name, tensor] : tensors) shapes.emplace(name, tensor.sizes().vec());
  return shapes;
}

absl::StatusOr<std::optional<TensorShapes>> WeightsFileShapes(const std::string& path) {
  if (IsShardIndex(path)) {
    ASSIGN_OR_RETURN(ShardIndex index, ReadShardIndex(path));
    TensorShapes all;
    for (const std::string& shard : index.shards) {
      ASSIGN_OR_RETURN(std::optional<TensorShapes> shapes, WeightsFileShapes(absl::StrCat(Dirname(path), "/", shard)));
      if (!shapes) return std::optional<TensorShapes>();
      all.merge(*shapes);
    }
    RETURN_IF_ERROR(CheckShardsComplete(index, all, path));
    return std::optional<TensorShapes>(std::move(all));
  }
  if (absl::EndsWith(path, ".safetensors")) {
    // Opening maps the file and parses the header; no tensor data is read.
    ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
    TensorShapes shapes;
    for (const SafetensorsEntry& entry : file.entries()) shapes.emplace(entry.name, entry.shape);
    return std::optional<TensorShapes>(std::move(shapes));
  }
  if (IsPickle(path)) return std::optional<TensorShapes>();
  return UnknownType(path);
}

absl::StatusOr<std::string> FindComponentWeights(const std::string& folder) {
  const char* const kNames[] = {
      "model.safetensors",
      "diffusion_pytorch_model.safetensors",
      "model.fp16.safetensors",
      "diffusion_pytorch_model.fp16.safetensors",
      "model.safetensors.index.json",
      "diffusion_pytorch_model.safetensors.index.json",
      "model.safetensors.index.fp16.json",  // diffusers' variant naming
      "diffusion_pytorch_model.safetensors.index.fp16.json",
      "pytorch_model.bin",
      "diffusion_pytorch_model.bin",
      "pytorch_model.fp16.bin",
      "diffusion_pytorch_model.fp16.bin",
      "pytorch_model.bin.index.json",
      "diffusion_pytorch_model.bin.index.json",
  };
  std::vector<std::string> tried;
  for (const char* name : kNames) {
    const std::string path = absl::StrCat(folder, "/", name);
    if (IsFile(path)) return path;
    tried.push_back(name);
  }
  return absl::NotFoundError(
      absl::StrCat("no weights in ", folder, " (looked for ", absl::StrJoin(tried, ", "), ")"));
}

absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentWeights(const std::string& folder,
                                                                       const TensorPlacement& spec) {
  ASSIGN_OR_RETURN(std::string path, FindComponentWeights(folder));
  return LoadWeightsFile(path, spec);
}

absl::StatusOr<std::map<std::string, at::Tensor>> LoadComponentWeights(const std::string& folder,
                                                                       const DeviceSpec& spec) {
  return LoadComponentWeights(folder, TensorPlacement::Of(spec));
}

absl::StatusOr<std::map<std::string, at::Tensor>> LoadWeightsFile(const std::string& path, const DeviceSpec& spec) {
  return LoadWeightsFile(path, TensorPlacement::Of(spec));
}

absl::StatusOr<std::map<std::string, at::Tensor>> PlaceTensors(std::map<std::string, at::Tensor> tensors,
                                                               const DeviceSpec& spec, const std::string& source) {
  return PlaceTensors(std::move(tensors), TensorPlacement::Of(spec), source);
}

}  // namespace dreamshot::core

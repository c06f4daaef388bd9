#include "core/model_source.h"

#include <sys/stat.h>
#include <torch/torch.h>

#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/component_weights.h"
#include "core/ldm_key_mapping.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "core/torch_pickle.h"

namespace dreamshot::core {
namespace {

using TensorMap = std::map<std::string, at::Tensor>;

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string ConfigFileName(const std::string& component) {
  if (component == "scheduler") return "scheduler_config.json";
  if (component == "tokenizer") return "tokenizer_config.json";
  return "config.json";
}

// The LDM prefix of a weight component; "" for others.
absl::string_view LdmPrefix(const std::string& component) {
  if (component == "unet") return kLdmUNetPrefix;
  if (component == "vae") return kLdmVaePrefix;
  if (component == "text_encoder") return kLdmTextEncoderPrefix;
  return "";
}

constexpr absl::string_view kPositionIds = "text_model.embeddings.position_ids";
constexpr absl::string_view kPositionEmbedding = "text_model.embeddings.position_embedding.weight";

// position_ids as int64 [1, N]: rounded when stored as floats, synthesized
// from the position embedding's rows when absent.
absl::Status FixPositionIds(TensorMap& tensors, const std::string& source) {
  try {
    auto ids = tensors.find(std::string(kPositionIds));
    if (ids != tensors.end()) {
      if (ids->second.is_floating_point()) ids->second = ids->second.round().to(torch::kLong);
      return absl::OkStatus();
    }
    auto embedding = tensors.find(std::string(kPositionEmbedding));
    if (embedding == tensors.end()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": text encoder has no ", kPositionEmbedding));
    }
    tensors.emplace(std::string(kPositionIds),
                    torch::arange(embedding->second.size(0), torch::kLong).unsqueeze(0));  // [1, N]
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(source, ": position_ids: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace

struct ModelSource::Impl {
  ModelSourceKind kind;
  std::string path;
  std::string config_dir;  // the folder itself for diffusers folders
  // Single files: exactly one of these.
  std::optional<SafetensorsFile> safetensors;
  TensorMap pickled;
  std::vector<std::string> names;  // every key of the single file

  bool HasPrefix(absl::string_view prefix) const {
    for (const std::string& name : names) {
      if (absl::StartsWith(name, prefix)) return true;
    }
    return false;
  }

  // The single file's tensors under `prefix`, on CPU, as stored.
  absl::StatusOr<TensorMap> LdmTensors(absl::string_view prefix) const {
    TensorMap out;
    for (const std::string& name : names) {
      if (!absl::StartsWith(name, prefix)) continue;
      if (safetensors) {
        ASSIGN_OR_RETURN(at::Tensor tensor, safetensors->Load(name));
        out.emplace(name, std::move(tensor));
      } else {
        out.emplace(name, pickled.at(name));
      }
    }
    return out;
  }
};

absl::StatusOr<ModelSource> ModelSource::Open(const std::string& path, const std::string& config_dir) {
  if (!Exists(path)) return absl::NotFoundError(absl::StrCat("model source not found: ", path));
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  if (IsDir(path)) {
    if (!Exists(path + "/model_index.json")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown model layout: ", path,
          " is a folder without model_index.json (expected a diffusers pipeline folder or a single checkpoint file)"));
    }
    impl->kind = ModelSourceKind::kDiffusersFolder;
    impl->config_dir = config_dir.empty() ? path : config_dir;
    return ModelSource(std::move(impl));
  }
  impl->kind = ModelSourceKind::kLdmSingleFile;
  if (!config_dir.empty() && !IsDir(config_dir)) {
    return absl::NotFoundError(absl::StrCat("config folder not found: ", config_dir));
  }
  impl->config_dir = config_dir;
  if (absl::EndsWith(path, ".safetensors")) {
    ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
    impl->names = file.names();
    impl->safetensors.emplace(std::move(file));
  } else if (absl::EndsWith(path, ".ckpt") || absl::EndsWith(path, ".bin") || absl::EndsWith(path, ".pth") ||
             absl::EndsWith(path, ".pt")) {
    ASSIGN_OR_RETURN(impl->pickled, ReadTorchStateDict(path));
    for (const auto& [name, tensor] : impl->pickled) impl->names.push_back(name);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown model layout: ", path,
                                                   " (expected a diffusers folder or a .safetensors, .ckpt, .bin, "
                                                   ".pth or .pt checkpoint)"));
  }
  if (!impl->HasPrefix(kLdmUNetPrefix) && !impl->HasPrefix(kLdmVaePrefix) &&
      !impl->HasPrefix(kLdmTextEncoderPrefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown model layout: ", path, " has no original-LDM keys (none starts with ", kLdmUNetPrefix, ", ",
        kLdmVaePrefix, " or ", kLdmTextEncoderPrefix, "); single-component diffusers files are not supported"));
  }
  return ModelSource(std::move(impl));
}

ModelSourceKind ModelSource::kind() const { return impl_->kind; }
const std::string& ModelSource::path() const { return impl_->path; }

bool ModelSource::HasComponent(const std::string& name) const {
  if (impl_->kind == ModelSourceKind::kDiffusersFolder) return IsDir(absl::StrCat(impl_->path, "/", name));
  const absl::string_view prefix = LdmPrefix(name);
  if (!prefix.empty()) return impl_->HasPrefix(prefix);
  return !impl_->config_dir.empty() && IsDir(absl::StrCat(impl_->config_dir, "/", name));
}

absl::StatusOr<std::string> ModelSource::ComponentDir(const std::string& name) const {
  if (impl_->config_dir.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        impl_->path, " is a single-file checkpoint without configs: open it with a config folder (a diffusers "
                     "folder of the same architecture) to read the ",
        name, " config"));
  }
  const std::string folder = absl::StrCat(impl_->config_dir, "/", name);
  if (!IsDir(folder)) {
    return absl::NotFoundError(absl::StrCat("no component '", name, "' in ", impl_->config_dir, " (looked for ",
                                            folder, "/", ConfigFileName(name), ")"));
  }
  return folder;
}

absl::StatusOr<JsonConfig> ModelSource::ComponentConfig(const std::string& name) const {
  ASSIGN_OR_RETURN(std::string folder, ComponentDir(name));
  return JsonConfig::FromFile(absl::StrCat(folder, "/", ConfigFileName(name)));
}

absl::StatusOr<std::string> ModelSource::ComponentWeightsPath(const std::string& name) const {
  if (impl_->kind == ModelSourceKind::kLdmSingleFile) return impl_->path;
  return FindComponentWeights(absl::StrCat(impl_->path, "/", name));
}

absl::StatusOr<std::optional<TensorShapes>> ModelSource::ComponentShapes(const std::string& name) const {
  if (impl_->kind == ModelSourceKind::kDiffusersFolder) {
    ASSIGN_OR_RETURN(std::string weights, ComponentWeightsPath(name));
    return WeightsFileShapes(weights);
  }
  ASSIGN_OR_RETURN(TensorMap tensors, LoadComponentTo(name, TensorPlacement::AsStored(c10::Device(c10::kCPU))));
  return std::optional<TensorShapes>(ShapesOf(tensors));
}

absl::StatusOr<std::map<std::string, at::Tensor>> ModelSource::LoadComponent(const std::string& name,
                                                                             const DeviceSpec& spec) const {
  return LoadComponentTo(name, TensorPlacement::Of(spec));
}

absl::StatusOr<std::map<std::string, at::Tensor>> ModelSource::LoadComponentAsStored(const std::string& name,
                                                                                     c10::Device device) const {
  return LoadComponentTo(name, TensorPlacement::AsStored(device));
}

absl::StatusOr<std::map<std::string, at::Tensor>> ModelSource::LoadComponentTo(
    const std::string& name, const TensorPlacement& spec) const {
  if (impl_->kind == ModelSourceKind::kDiffusersFolder) {
    const std::string folder = absl::StrCat(impl_->path, "/", name);
    if (!IsDir(folder)) {
      return absl::NotFoundError(absl::StrCat("no component '", name, "' in ", impl_->path, " (looked for the folder ",
                                              folder, ")"));
    }
    return LoadComponentWeights(folder, spec);
  }
  const absl::string_view prefix = LdmPrefix(name);
  if (prefix.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "component '", name, "' has no weights in a single-file checkpoint (weights: unet, vae, text_encoder)"));
  }
  if (!impl_->HasPrefix(prefix)) {
    return absl::NotFoundError(
        absl::StrCat("no component '", name, "' in ", impl_->path, " (looked for keys starting with ", prefix, ")"));
  }
  ASSIGN_OR_RETURN(TensorMap ldm, impl_->LdmTensors(prefix));
  ConvertedTensors converted;
  if (name == "text_encoder") {
    ASSIGN_OR_RETURN(converted, ConvertLdmTextEncoder(ldm, /*strict=*/true, impl_->path));
    RETURN_IF_ERROR(FixPositionIds(converted.tensors, impl_->path));
  } else {
    ASSIGN_OR_RETURN(JsonConfig config, ComponentConfig(name));
    ASSIGN_OR_RETURN(LdmBlockLayout layout, LdmBlockLayoutFromConfig(config));
    if (name == "unet") {
      ASSIGN_OR_RETURN(converted, ConvertLdmUNet(ldm, layout, /*strict=*/true, impl_->path));
    } else {
      ASSIGN_OR_RETURN(converted, ConvertLdmVae(ldm, layout, /*strict=*/false, impl_->path));
      std::vector<std::string> unknown;
      for (const std::string& key : converted.unmapped) {
        if (!absl::StartsWith(key, "first_stage_model.loss.")) unknown.push_back(key);  // training-only
      }
      if (!unknown.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(impl_->path, ": ", unknown.size(),
                                                       " VAE key(s) no LDM->diffusers rule covers, e.g. ", unknown[0]));
      }
    }
  }
  return PlaceTensors(std::move(converted.tensors), spec, impl_->path);
}

}  // namespace dreamshot::core

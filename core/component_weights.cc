#include "core/component_weights.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/safetensors.h"
#include "core/status_macros.h"

namespace dreamshot::core {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

absl::StatusOr<std::string> FindComponentWeights(const std::string& folder) {
  const char* const kNames[] = {"model.safetensors", "diffusion_pytorch_model.safetensors",
                                "model.fp16.safetensors", "diffusion_pytorch_model.fp16.safetensors"};
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
                                                                       const DeviceSpec& spec) {
  ASSIGN_OR_RETURN(std::string path, FindComponentWeights(folder));
  ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
  return file.LoadAll(spec.dtype, spec.device);
}

}  // namespace dreamshot::core

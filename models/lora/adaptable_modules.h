// The modules of a network that LoRA can adapt: every Linear and Conv2d,
// by module path, with its weight shape. Reading a LoRA file resolves and
// checks names against this index; merging and runtime attachment look the
// modules up in it.
#ifndef DREAMSHOT_MODELS_LORA_ADAPTABLE_MODULES_H_
#define DREAMSHOT_MODELS_LORA_ADAPTABLE_MODULES_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/lora/lora_names.h"
#include "models/lora/lora_weights.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models::lora {

class AdaptableModules {
 public:
  // Indexes `root` (e.g. UNet2DConditionModel::module()). The modules stay
  // owned by `root`, which must outlive the index. INVALID_ARGUMENT when two
  // module names collide in kohya's underscore form.
  static absl::StatusOr<AdaptableModules> Index(torch::nn::Module& root, LoraComponent component);

  LoraComponent component() const { return component_; }
  std::vector<std::string> paths() const;
  bool Contains(const std::string& path) const { return modules_.count(path) > 0; }
  // The Linear/Conv2d at `path`, or nullptr.
  torch::nn::Module* Find(const std::string& path) const;
  // Its weight ([out, in] or [out, in, kh, kw]); undefined when absent.
  at::Tensor Weight(const std::string& path) const;
  const KohyaNameResolver& kohya_names() const { return kohya_names_; }

  // Every module of `weights` exists here and its ΔW has the module's weight
  // shape; INVALID_ARGUMENT lists each offending module with the reason.
  absl::Status Check(const LoraModuleMap& weights) const;

 private:
  AdaptableModules(LoraComponent component, std::map<std::string, std::shared_ptr<torch::nn::Module>> modules,
                   KohyaNameResolver kohya_names)
      : component_(component), modules_(std::move(modules)), kohya_names_(std::move(kohya_names)) {}

  LoraComponent component_;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules_;
  KohyaNameResolver kohya_names_;
};

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_ADAPTABLE_MODULES_H_

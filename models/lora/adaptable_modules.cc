#include "models/lora/adaptable_modules.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/problem_list.h"
#include "core/status_macros.h"

namespace dreamshot::models::lora {
namespace {

std::string Shape(at::IntArrayRef sizes) { return absl::StrCat("[", absl::StrJoin(sizes, ", "), "]"); }

// The shape ΔW = up @ down has, for comparison with the module's weight.
std::vector<int64_t> DeltaShape(const LoraModuleWeights& w) {
  std::vector<int64_t> shape = {w.up.size(0), w.down.size(1)};
  for (int64_t d = 2; d < w.down.dim(); ++d) shape.push_back(w.down.size(d));
  return shape;
}

}  // namespace

absl::StatusOr<AdaptableModules> AdaptableModules::Index(torch::nn::Module& root, LoraComponent component) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  std::vector<std::string> paths;
  for (const auto& item : root.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    const auto& module = item.value();
    if (module->as<torch::nn::LinearImpl>() == nullptr && module->as<torch::nn::Conv2dImpl>() == nullptr) continue;
    modules.emplace(item.key(), module);
    paths.push_back(item.key());
  }
  ASSIGN_OR_RETURN(KohyaNameResolver resolver, KohyaNameResolver::Build(paths));
  return AdaptableModules(component, std::move(modules), std::move(resolver));
}

std::vector<std::string> AdaptableModules::paths() const {
  std::vector<std::string> out;
  out.reserve(modules_.size());
  for (const auto& [path, module] : modules_) out.push_back(path);
  return out;
}

torch::nn::Module* AdaptableModules::Find(const std::string& path) const {
  auto it = modules_.find(path);
  return it == modules_.end() ? nullptr : it->second.get();
}

at::Tensor AdaptableModules::Weight(const std::string& path) const {
  torch::nn::Module* module = Find(path);
  if (module == nullptr) return {};
  if (auto* linear = module->as<torch::nn::LinearImpl>()) return linear->weight;
  return module->as<torch::nn::Conv2dImpl>()->weight;
}

absl::Status AdaptableModules::Check(const LoraModuleMap& weights) const {
  std::vector<std::string> problems;
  for (const auto& [path, w] : weights) {
    absl::Status pair = CheckPairShapes(path, w);
    if (!pair.ok()) {
      problems.push_back(std::string(pair.message()));
      continue;
    }
    const at::Tensor weight = Weight(path);
    if (!weight.defined()) {
      problems.push_back(absl::StrCat(path, ": no such Linear/Conv2d module in the ", ComponentName(component_)));
      continue;
    }
    const std::vector<int64_t> delta = DeltaShape(w);
    if (weight.sizes() != at::IntArrayRef(delta)) {
      problems.push_back(absl::StrCat(path, ": LoRA delta ", Shape(delta), " does not match the module weight ",
                                      Shape(weight.sizes())));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(core::JoinProblems(problems));
}

}  // namespace dreamshot::models::lora

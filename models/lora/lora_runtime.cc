#include "models/lora/lora_runtime.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "models/lora/lora_linear.h"

namespace dreamshot::models::lora {

RuntimeLoras::RuntimeLoras(AdaptableModules modules) : modules_(std::move(modules)) {}

RuntimeLoras::~RuntimeLoras() {
  // A moved-from object has nothing attached.
  for (const std::string& name : adapters()) Detach(name).IgnoreError();
}

absl::Status RuntimeLoras::Attach(const std::string& name, const LoraModuleMap& weights, double scale) {
  if (attached_.count(name)) return absl::AlreadyExistsError(absl::StrCat("LoRA adapter '", name, "' is attached"));
  RETURN_IF_ERROR(modules_.Check(weights));
  std::vector<std::string> not_runtime;
  for (const auto& [path, w] : weights) {
    if (modules_.Find(path)->as<LoraLinearImpl>() == nullptr) not_runtime.push_back(path);
  }
  if (!not_runtime.empty()) {
    return absl::UnimplementedError(absl::StrCat("adapter '", name, "': runtime LoRA needs LoraLinear modules; merge (",
                                                 "MergeLora) the adapters of ", absl::StrJoin(not_runtime, ", ")));
  }
  Attached entry{std::make_shared<AdapterScale>(AdapterScale{scale}), {}};
  for (const auto& [path, w] : weights) {
    auto* layer = modules_.Find(path)->as<LoraLinearImpl>();
    const auto options = layer->weight.options().requires_grad(false);
    layer->AddRuntimeDelta(RuntimeDelta{name, w.down.to(options), w.up.to(options), w.alpha_over_rank(),
                                        entry.scale});
    entry.modules.push_back(path);
  }
  attached_.emplace(name, std::move(entry));
  return absl::OkStatus();
}

absl::Status RuntimeLoras::SetScale(const std::string& name, double scale) {
  auto it = attached_.find(name);
  if (it == attached_.end()) return absl::NotFoundError(absl::StrCat("no LoRA adapter '", name, "' is attached"));
  it->second.scale->value = scale;
  return absl::OkStatus();
}

absl::Status RuntimeLoras::Detach(const std::string& name) {
  auto it = attached_.find(name);
  if (it == attached_.end()) return absl::NotFoundError(absl::StrCat("no LoRA adapter '", name, "' is attached"));
  for (const std::string& path : it->second.modules) {
    modules_.Find(path)->as<LoraLinearImpl>()->RemoveRuntimeDeltas(name);
  }
  attached_.erase(it);
  return absl::OkStatus();
}

std::vector<std::string> RuntimeLoras::adapters() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : attached_) names.push_back(name);
  return names;
}

}  // namespace dreamshot::models::lora

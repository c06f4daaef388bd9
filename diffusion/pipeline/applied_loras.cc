#include "diffusion/pipeline/applied_loras.h"

#include <torch/torch.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_file.h"
#include "models/lora/lora_linear.h"
#include "models/lora/lora_merge.h"
#include "models/lora/lora_runtime.h"

namespace dreamshot::diffusion {
namespace {

namespace lora = models::lora;

// Splits `weights` into what can run at runtime (LoraLinear layers) and
// what must be merged.
void SplitByLayerKind(const lora::AdaptableModules& modules, const lora::LoraModuleMap& weights,
                      lora::LoraModuleMap* runtime, lora::LoraModuleMap* merged) {
  for (const auto& [path, w] : weights) {
    const bool linear = dynamic_cast<lora::LoraLinearImpl*>(modules.Find(path)) != nullptr;
    (linear ? *runtime : *merged)[path] = w;
  }
}

std::string FileStem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

struct AppliedLoras::State {
  struct Merged {
    const lora::AdaptableModules* modules;
    lora::LoraModuleMap weights;
    double scale;
  };
  std::optional<lora::RuntimeLoras> unet_runtime, text_runtime;  // each owns its module index
  std::vector<Merged> merged;  // un-merged in reverse order

  ~State() {
    for (auto it = merged.rbegin(); it != merged.rend(); ++it) {
      (void)lora::UnmergeLora(*it->modules, it->weights, it->scale);  // checked when merged
    }
  }

  absl::Status Add(const std::string& name, lora::LoraComponent component, const lora::LoraModuleMap& weights,
                   double scale) {
    if (weights.empty()) return absl::OkStatus();
    const bool is_unet = component == lora::LoraComponent::kUNet;
    lora::RuntimeLoras& runtime = is_unet ? *unet_runtime : *text_runtime;
    const lora::AdaptableModules& modules = runtime.modules();
    lora::LoraModuleMap at_runtime, to_merge;
    SplitByLayerKind(modules, weights, &at_runtime, &to_merge);
    if (!at_runtime.empty()) RETURN_IF_ERROR(runtime.Attach(name, at_runtime, scale));
    if (!to_merge.empty()) {
      RETURN_IF_ERROR(lora::MergeLora(modules, to_merge, scale));
      merged.push_back({&modules, std::move(to_merge), scale});
    }
    return absl::OkStatus();
  }
};

AppliedLoras::AppliedLoras(std::unique_ptr<State> state) : state_(std::move(state)) {}
AppliedLoras::~AppliedLoras() = default;

absl::StatusOr<std::unique_ptr<AppliedLoras>> AppliedLoras::Apply(StableDiffusionModels& models,
                                                                  const std::vector<LoraRef>& refs,
                                                                  const FileHasher& hasher) {
  auto state = std::make_unique<State>();
  ASSIGN_OR_RETURN(auto unet_index, lora::AdaptableModules::Index(models.unet->module(), lora::LoraComponent::kUNet));
  ASSIGN_OR_RETURN(auto text_index, lora::AdaptableModules::Index(models.text_encoder->module(),
                                                                  lora::LoraComponent::kTextEncoder));
  state->unet_runtime.emplace(std::move(unet_index));
  state->text_runtime.emplace(std::move(text_index));

  std::vector<LoraRecord> records;
  for (size_t i = 0; i < refs.size(); ++i) {
    const LoraRef& ref = refs[i];
    // On any error `state` is destroyed, which undoes what was applied.
    ASSIGN_OR_RETURN(lora::LoraFile file, lora::ReadLoraFile(ref.path, {&state->unet_runtime->modules(),
                                                                        &state->text_runtime->modules()}));
    const std::string name = absl::StrCat(i, ":", FileStem(ref.path));
    RETURN_IF_ERROR(state->Add(name, lora::LoraComponent::kUNet, file.weights.unet, ref.scale));
    RETURN_IF_ERROR(state->Add(name, lora::LoraComponent::kTextEncoder, file.weights.text_encoder, ref.scale));
    ASSIGN_OR_RETURN(std::string sha, hasher ? hasher(ref.path) : core::Sha256HexOfFile(ref.path));
    records.push_back({FileStem(ref.path), sha, ref.scale});
  }
  auto applied = std::unique_ptr<AppliedLoras>(new AppliedLoras(std::move(state)));
  applied->records_ = std::move(records);
  return applied;
}

}  // namespace dreamshot::diffusion

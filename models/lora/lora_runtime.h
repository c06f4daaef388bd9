// Runtime LoRA: adapters evaluated in forward next to the untouched base
// weights (y = base(x) + scale · (alpha / rank) · up(down(x))), several at
// once, each with a scale that can change between calls without touching
// the model. The adapted modules must be LoraLinear (models/lora/
// lora_linear.h): the UNet's attention projections, feed-forward and linear
// proj_in/proj_out, and the CLIP text encoder's q/k/v/out_proj and fc1/fc2.
// Conv2d adapters (1×1 proj_in of SD 1.x, ResNet convs) and other Linears
// (time embeddings) are applied with MergeLora instead.
//
// Not thread-safe: attach, detach and SetScale between forward calls.
#ifndef DREAMSHOT_MODELS_LORA_LORA_RUNTIME_H_
#define DREAMSHOT_MODELS_LORA_LORA_RUNTIME_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_weights.h"

namespace dreamshot::models::lora {

struct AdapterScale;

class RuntimeLoras {
 public:
  // `modules` indexes the network the adapters attach to.
  explicit RuntimeLoras(AdaptableModules modules);
  // Detaches every adapter still attached.
  ~RuntimeLoras();
  RuntimeLoras(RuntimeLoras&&) = default;
  RuntimeLoras& operator=(RuntimeLoras&&) = delete;
  RuntimeLoras(const RuntimeLoras&) = delete;
  RuntimeLoras& operator=(const RuntimeLoras&) = delete;

  // Attaches `weights` as adapter `name` at `scale`, converted to each
  // layer's dtype and device. ALREADY_EXISTS for a used name,
  // INVALID_ARGUMENT for unknown / mis-shaped modules, UNIMPLEMENTED naming
  // the modules that are not LoraLinear. On error nothing is attached.
  absl::Status Attach(const std::string& name, const LoraModuleMap& weights, double scale);
  // NOT_FOUND for an adapter that is not attached.
  absl::Status SetScale(const std::string& name, double scale);
  absl::Status Detach(const std::string& name);
  std::vector<std::string> adapters() const;
  // The index adapters attach through (also what files are read against).
  const AdaptableModules& modules() const { return modules_; }

 private:
  struct Attached {
    std::shared_ptr<AdapterScale> scale;
    std::vector<std::string> modules;
  };
  AdaptableModules modules_;
  std::map<std::string, Attached> attached_;
};

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_RUNTIME_H_

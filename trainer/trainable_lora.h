// Trainable LoRA adapters on a network's LoraLinear projections: the
// adapter weights are the only tensors that require gradients; the base
// weights stay frozen and untouched (y = base(x) + (alpha/rank)·up(down(x)),
// evaluated by models/lora/lora_linear.h). Parameter names are the peft keys
// diffusers' train_dreambooth_lora.py writes:
//   <component>.<module>.lora_A.weight  (down, [rank, in])
//   <component>.<module>.lora_B.weight  (up,   [out, rank])
#ifndef DREAMSHOT_TRAINER_TRAINABLE_LORA_H_
#define DREAMSHOT_TRAINER_TRAINABLE_LORA_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_weights.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models::lora {
class LoraLinearImpl;
}

namespace dreamshot::trainer {

struct LoraTrainingOptions {
  int64_t rank = 4;
  // 0: alpha = rank (diffusers' convention, scale 1). kohya defaults to
  // alpha = 1, so a learning rate does not carry across the conventions.
  double alpha = 0;
  // Modules whose path ends with one of these ("…attn1.to_q"). The default
  // is the UNet's attention projections; for the text encoder use
  // kTextEncoderTargets.
  std::vector<std::string> target_modules = {"to_q", "to_k", "to_v", "to_out.0"};
  enum class Init {
    kGaussian,  // diffusers' LoRALinearLayer: down ~ N(0, (1/rank)²), up = 0
    kKaiming,   // peft's default: down Kaiming-uniform (a = √5), up = 0
  };
  Init init = Init::kGaussian;
};

// The text encoder's attention projections, which train_dreambooth_lora.py
// (v0.25.1, --train_text_encoder) adapts: peft keys
// text_encoder.text_model.encoder.layers.<i>.self_attn.<q|k|v|out>_proj.lora_A.weight.
inline const std::vector<std::string> kTextEncoderTargets = {"q_proj", "k_proj", "v_proj", "out_proj"};

// Stops gradients for every parameter of `root` (the base weights), so that
// backward computes only what the adapters need.
void FreezeParameters(torch::nn::Module& root);

class TrainableLora {
 public:
  // Attaches adapters to every LoraLinear of `modules` matching a target,
  // on the module's device in float32, drawing the initial down weights
  // from `generator`. INVALID_ARGUMENT for a rank ≤ 0 or wider than a
  // layer, for a target that matches nothing, or for a matched module that
  // is not a LoraLinear (a conv: not trainable at runtime yet).
  static absl::StatusOr<std::unique_ptr<TrainableLora>> Attach(const models::lora::AdaptableModules& modules,
                                                               const LoraTrainingOptions& options,
                                                               at::Generator generator);
  // Detaches the adapters from the network.
  ~TrainableLora();
  TrainableLora(const TrainableLora&) = delete;
  TrainableLora& operator=(const TrainableLora&) = delete;

  // Every trainable tensor, in name order.
  std::vector<at::Tensor> parameters() const;
  // By peft key.
  const std::map<std::string, at::Tensor>& named_parameters() const { return named_; }
  int64_t rank() const { return rank_; }
  double alpha() const { return alpha_; }
  // Copies `values` (peft keys, e.g. a saved adapter or a reference's
  // initial weights) into the parameters. Every parameter must be given,
  // with its shape; INVALID_ARGUMENT names what is missing or mis-shaped.
  absl::Status Load(const std::map<std::string, at::Tensor>& values);
  // The adapter as LoRA file weights (detached copies, alpha recorded), to
  // write with models/lora/lora_file.h and load back for generation.
  models::lora::LoraWeights ToLoraWeights() const;
  models::lora::LoraComponent component() const { return component_; }

 private:
  std::vector<models::lora::LoraLinearImpl*> layers_;  // what Attach added a delta to
  std::vector<std::string> paths_;                      // their module paths, in attach order
  TrainableLora() = default;
  std::map<std::string, at::Tensor> named_;
  models::lora::LoraComponent component_ = models::lora::LoraComponent::kUNet;
  int64_t rank_ = 0;
  double alpha_ = 0;
};

// A UNet adapter and, when given, a text-encoder adapter as one set of LoRA
// file weights (both components; one file, as train_dreambooth_lora.py
// saves them with --train_text_encoder). INVALID_ARGUMENT when an adapter
// is attached to the other network than its argument says.
absl::StatusOr<models::lora::LoraWeights> ToLoraWeights(const TrainableLora& unet,
                                                        const TrainableLora* text_encoder);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_TRAINABLE_LORA_H_

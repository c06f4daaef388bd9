#include "trainer/trainable_lora.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/lora/lora_linear.h"

namespace dreamshot::trainer {

namespace lora = models::lora;

constexpr char kAdapterName[] = "training";

namespace {

bool MatchesTarget(const std::string& path, const std::vector<std::string>& targets) {
  for (const std::string& t : targets) {
    if (path == t || absl::EndsWith(path, "." + t)) return true;
  }
  return false;
}

std::string ShapeText(const at::Tensor& t) { return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]"); }

}  // namespace

void FreezeParameters(torch::nn::Module& root) {
  for (at::Tensor& p : root.parameters()) p.set_requires_grad(false);
}

absl::StatusOr<std::unique_ptr<TrainableLora>> TrainableLora::Attach(const lora::AdaptableModules& modules,
                                                                    const LoraTrainingOptions& options,
                                                                    at::Generator generator) {
  if (options.rank <= 0) return absl::InvalidArgumentError(absl::StrCat("rank must be positive, got ", options.rank));
  if (options.alpha < 0 || !std::isfinite(options.alpha)) {
    return absl::InvalidArgumentError(absl::StrCat("alpha must be a finite number ≥ 0, got ", options.alpha));
  }
  if (options.target_modules.empty()) return absl::InvalidArgumentError("give at least one target module");
  const std::string component = lora::ComponentName(modules.component());
  std::vector<std::pair<std::string, lora::LoraLinearImpl*>> layers;
  std::vector<std::string> not_linear;
  for (const std::string& path : modules.paths()) {
    if (!MatchesTarget(path, options.target_modules)) continue;
    auto* layer = dynamic_cast<lora::LoraLinearImpl*>(modules.Find(path));
    if (layer == nullptr) {
      not_linear.push_back(path);
      continue;
    }
    const at::Tensor& weight = layer->weight;  // [out, in]
    if (options.rank > std::min(weight.size(0), weight.size(1))) {
      return absl::InvalidArgumentError(absl::StrCat("rank ", options.rank, " is wider than ", path, " (",
                                                     weight.size(1), " → ", weight.size(0), ")"));
    }
    layers.emplace_back(path, layer);
  }
  if (!not_linear.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("not trainable at runtime (not a LoraLinear): ",
                                                   absl::StrJoin(not_linear, ", ")));
  }
  if (layers.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", component, " module matches the targets ",
                                                   absl::StrJoin(options.target_modules, ", ")));
  }
  std::unique_ptr<TrainableLora> out(new TrainableLora());
  out->rank_ = options.rank;
  out->component_ = modules.component();
  out->alpha_ = options.alpha > 0 ? options.alpha : static_cast<double>(options.rank);
  auto scale = std::make_shared<lora::AdapterScale>();
  const double rank = static_cast<double>(options.rank);
  for (const auto& [path, layer] : layers) {
    const at::Tensor& weight = layer->weight;
    const auto float_options = weight.options().dtype(torch::kFloat);
    at::Tensor down = torch::empty({options.rank, weight.size(1)}, float_options);
    at::Tensor up = torch::zeros({weight.size(0), options.rank}, float_options);
    {
      torch::NoGradGuard no_grad;
      if (options.init == LoraTrainingOptions::Init::kGaussian) {
        down.normal_(0.0, 1.0 / rank, generator);
      } else {
        // Kaiming-uniform with a = √5: bound = √(6 / ((1 + a²)·fan_in)) = 1/√fan_in.
        const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
        down.uniform_(-bound, bound, generator);
      }
    }
    down.set_requires_grad(true);
    up.set_requires_grad(true);
    lora::RuntimeDelta delta;
    delta.adapter = kAdapterName;
    delta.down = down;
    delta.up = up;
    delta.alpha_over_rank = out->alpha_ / rank;
    delta.scale = scale;
    layer->AddRuntimeDelta(delta);
    out->layers_.push_back(layer);
    out->paths_.push_back(path);
    out->named_[absl::StrCat(component, ".", path, ".lora_A.weight")] = down;
    out->named_[absl::StrCat(component, ".", path, ".lora_B.weight")] = up;
  }
  return out;
}

TrainableLora::~TrainableLora() {
  for (lora::LoraLinearImpl* layer : layers_) layer->RemoveRuntimeDeltas(kAdapterName);
}

lora::LoraWeights TrainableLora::ToLoraWeights() const {
  lora::LoraWeights weights;
  const std::string component = lora::ComponentName(component_);
  for (const std::string& path : paths_) {
    lora::LoraModuleWeights w;
    w.down = named_.at(absl::StrCat(component, ".", path, ".lora_A.weight")).detach().clone();
    w.up = named_.at(absl::StrCat(component, ".", path, ".lora_B.weight")).detach().clone();
    w.alpha = alpha_;
    weights.modules(component_)[path] = std::move(w);
  }
  return weights;
}

absl::StatusOr<lora::LoraWeights> ToLoraWeights(const TrainableLora& unet, const TrainableLora* text_encoder) {
  if (unet.component() != lora::LoraComponent::kUNet) {
    return absl::InvalidArgumentError("the first adapter must be attached to the UNet");
  }
  lora::LoraWeights weights = unet.ToLoraWeights();
  if (text_encoder == nullptr) return weights;
  if (text_encoder->component() != lora::LoraComponent::kTextEncoder) {
    return absl::InvalidArgumentError("the second adapter must be attached to the text encoder");
  }
  weights.text_encoder = text_encoder->ToLoraWeights().text_encoder;
  return weights;
}

std::vector<at::Tensor> TrainableLora::parameters() const {
  std::vector<at::Tensor> out;
  out.reserve(named_.size());
  for (const auto& [name, tensor] : named_) out.push_back(tensor);
  return out;
}

absl::Status TrainableLora::Load(const std::map<std::string, at::Tensor>& values) {
  std::vector<std::string> problems;
  for (const auto& [name, tensor] : named_) {
    auto found = values.find(name);
    if (found == values.end()) {
      problems.push_back(absl::StrCat(name, " is missing"));
    } else if (found->second.sizes() != tensor.sizes()) {
      problems.push_back(absl::StrCat(name, " has shape ", ShapeText(found->second), ", the adapter's is ",
                                      ShapeText(tensor)));
    }
  }
  for (const auto& [name, tensor] : values) {
    if (named_.count(name) == 0) problems.push_back(absl::StrCat(name, " is not a parameter of this adapter"));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : named_) tensor.copy_(values.at(name));
  return absl::OkStatus();
}

}  // namespace dreamshot::trainer

// ReadLoraFile (lora_file.h): keys → (component, module, role) by the scheme
// tables, kohya names resolved through the model's modules, then checks.
#include <torch/torch.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "core/problem_list.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/lora/lora_file.h"
#include "models/lora/peft_metadata.h"

namespace dreamshot::models::lora {
namespace {

const AdaptableModules* TargetOf(const LoraTargets& targets, LoraComponent c) {
  return c == LoraComponent::kUNet ? targets.unet : targets.text_encoder;
}

// The file's format: the one all parsed keys agree on.
absl::StatusOr<LoraFileFormat> CommonFormat(const std::vector<std::pair<std::string, ParsedLoraKey>>& keys,
                                            const std::string& path) {
  if (keys.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no LoRA tensors"));
  const auto& [first_key, first] = keys.front();
  for (const auto& [key, parsed] : keys) {
    if (parsed.format != first.format) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": mixes LoRA formats: '", first_key, "' is ",
                                                     FormatName(first.format), ", '", key, "' is ",
                                                     FormatName(parsed.format)));
    }
  }
  return first.format;
}

absl::StatusOr<double> ScalarValue(const at::Tensor& t, const std::string& key) {
  if (t.numel() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": alpha must be a scalar, has ", t.numel(), " elements"));
  }
  return t.to(torch::kDouble).item<double>();
}

}  // namespace

absl::StatusOr<LoraFile> ReadLoraFile(const std::string& path, const LoraTargets& targets) {
  ASSIGN_OR_RETURN(core::SafetensorsFile file, core::SafetensorsFile::Open(path));
  std::vector<std::string> problems;
  std::vector<std::pair<std::string, ParsedLoraKey>> keys;
  for (const std::string& key : file.names()) {
    std::optional<ParsedLoraKey> parsed = ParseLoraKey(key);
    if (!parsed) {
      problems.push_back(absl::StrCat("key '", key, "' follows no LoRA naming scheme"));
      continue;
    }
    keys.emplace_back(key, std::move(*parsed));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", core::JoinProblems(problems)));
  ASSIGN_OR_RETURN(LoraFileFormat format, CommonFormat(keys, path));

  LoraFile out{format, {}};
  out.weights.metadata = file.metadata();
  // Which key supplied each module's down/up, for messages about partners.
  std::map<std::pair<LoraComponent, std::string>, std::string> key_of_module;
  for (const auto& [key, parsed] : keys) {
    const AdaptableModules* target = TargetOf(targets, parsed.component);
    if (target == nullptr) {
      problems.push_back(absl::StrCat("key '", key, "' adapts the ", ComponentName(parsed.component),
                                      ", which was not given"));
      continue;
    }
    std::string module = parsed.module;
    if (format == LoraFileFormat::kKohya) {
      std::optional<std::string> resolved = target->kohya_names().Resolve(module);
      if (!resolved) {
        problems.push_back(absl::StrCat("key '", key, "' names no Linear/Conv2d module of the ",
                                        ComponentName(parsed.component)));
        continue;
      }
      module = *resolved;
    } else if (!target->Contains(module)) {
      problems.push_back(absl::StrCat("key '", key, "' names no Linear/Conv2d module of the ",
                                      ComponentName(parsed.component), " ('", module, "')"));
      continue;
    }
    ASSIGN_OR_RETURN(at::Tensor tensor, file.Load(key));
    LoraModuleWeights& w = out.weights.modules(parsed.component)[module];
    key_of_module[{parsed.component, module}] = key;
    switch (parsed.role) {
      case LoraTensorRole::kDown:
        w.down = tensor;
        break;
      case LoraTensorRole::kUp:
        w.up = tensor;
        break;
      case LoraTensorRole::kAlpha: {
        ASSIGN_OR_RETURN(w.alpha, ScalarValue(tensor, key));
        break;
      }
    }
  }

  ASSIGN_OR_RETURN(PeftAlphas peft_alphas, PeftAlphas::FromMetadata(out.weights.metadata));
  for (LoraComponent c : {LoraComponent::kUNet, LoraComponent::kTextEncoder}) {
    for (auto& [module, w] : out.weights.modules(c)) {
      if (!w.down.defined() || !w.up.defined()) {
        const LoraTensorRole missing = w.down.defined() ? LoraTensorRole::kUp : LoraTensorRole::kDown;
        problems.push_back(absl::StrCat("key '", key_of_module[{c, module}], "' has no partner '",
                                        LoraKey(format, c, module, missing), "'"));
        continue;
      }
      if (format != LoraFileFormat::kKohya) w.alpha = peft_alphas.AlphaOf(c, module);
    }
    if (const AdaptableModules* target = TargetOf(targets, c); target != nullptr && problems.empty()) {
      absl::Status fits = target->Check(out.weights.modules(c));
      if (!fits.ok()) problems.push_back(std::string(fits.message()));
    }
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", core::JoinProblems(problems)));
  return out;
}

}  // namespace dreamshot::models::lora

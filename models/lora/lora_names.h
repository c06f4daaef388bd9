// Every LoRA naming scheme in one table-driven place: the tensor keys of the
// diffusers/peft, older diffusers and kohya (A1111, ComfyUI) files, and the
// module names they encode.
//
//   peft (diffusers >= 0.24):  unet.<module>.lora_A.weight [r,in], .lora_B.weight [out,r]
//                              text_encoder.<module>.lora_A.weight / .lora_B.weight
//   diffusers legacy:          unet.<module>.lora.down.weight / .lora.up.weight
//                              text_encoder.<module>.lora_linear_layer.down.weight / .up.weight
//                              (either infix is accepted for either component on read)
//   kohya:                     lora_unet_<module, '.' → '_'>.lora_down.weight / .lora_up.weight / .alpha
//                              lora_te_<module, '.' → '_'>... (text encoder)
//
// <module> is the upstream module path, which is also ours
// ("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0",
// "text_model.encoder.layers.0.self_attn.q_proj"). Kohya's underscore form is
// not invertible by string rules (to_q, down_blocks, ff_net_0_proj contain
// underscores), so KohyaNameResolver maps it back through the set of module
// names the model actually has.
#ifndef DREAMSHOT_MODELS_LORA_LORA_NAMES_H_
#define DREAMSHOT_MODELS_LORA_LORA_NAMES_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/lora/lora_weights.h"

namespace dreamshot::models::lora {

enum class LoraFileFormat {
  kPeft,             // pytorch_lora_weights.safetensors of diffusers >= 0.24
  kDiffusersLegacy,  // pytorch_lora_weights.safetensors of diffusers 0.21-0.23
  kKohya,            // sd-scripts networks/lora.py, read by A1111 and ComfyUI
};
const char* FormatName(LoraFileFormat format);  // "peft", "diffusers_legacy", "kohya"

enum class LoraTensorRole { kDown, kUp, kAlpha };

// A tensor key split into its parts. For kohya files `module` is still the
// underscore form ("down_blocks_0_..._to_q"); resolve it with KohyaNameResolver.
struct ParsedLoraKey {
  LoraFileFormat format;
  LoraComponent component;
  std::string module;
  LoraTensorRole role;
};

// nullopt when `key` follows none of the schemes (the caller reports it).
std::optional<ParsedLoraKey> ParseLoraKey(absl::string_view key);

// The key a tool of `format` writes for this tensor. Alpha keys exist only
// in kohya files.
std::string LoraKey(LoraFileFormat format, LoraComponent component, const std::string& module,
                    LoraTensorRole role);

// "lora_unet_down_blocks_0_..._to_out_0" for kohya files.
std::string KohyaModuleName(LoraComponent component, const std::string& module);

// Metadata keys that describe a file of one format and so are dropped when
// writing another: ss_network_* for kohya, format / lora_adapter_metadata
// for peft.
bool IsFormatOwnedMetadataKey(LoraFileFormat format, const std::string& key);

// Kohya's underscore names back to module paths, by lookup in the model's
// own module names.
class KohyaNameResolver {
 public:
  // INVALID_ARGUMENT when two module paths share an underscore form (the
  // kohya name would be ambiguous), naming both.
  static absl::StatusOr<KohyaNameResolver> Build(const std::vector<std::string>& module_paths);
  // "down_blocks_0_attentions_0_..._to_q" → "down_blocks.0.attentions.0...to_q".
  std::optional<std::string> Resolve(const std::string& underscore_name) const;

 private:
  std::map<std::string, std::string> by_underscore_name_;
};

}  // namespace dreamshot::models::lora

#endif  // DREAMSHOT_MODELS_LORA_LORA_NAMES_H_

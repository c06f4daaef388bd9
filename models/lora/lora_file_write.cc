// WriteLoraFile (lora_file.h): keys and metadata as each tool writes them.
#include <torch/torch.h>

#include <charconv>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/sha256.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/lora/lora_file.h"
#include "models/lora/peft_metadata.h"

namespace dreamshot::models::lora {
namespace {

constexpr LoraComponent kComponents[] = {LoraComponent::kUNet, LoraComponent::kTextEncoder};
constexpr LoraFileFormat kFormats[] = {LoraFileFormat::kPeft, LoraFileFormat::kDiffusersLegacy,
                                       LoraFileFormat::kKohya};

// Python's str(float): shortest round-trip digits, "4.0" for integers.
std::string PythonFloat(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, end);
  if (text.find_first_of(".eE") == std::string::npos && text.find_first_of("ni") == std::string::npos) {
    text += ".0";
  }
  return text;
}

// The (rank, alpha) most modules of `linear` (or conv) kind share: kohya's
// network_dim / network_alpha (conv_dim / conv_alpha), since its metadata
// describes the network as a whole.
std::optional<std::pair<int64_t, double>> DominantRankAlpha(const LoraWeights& weights, bool conv) {
  std::map<std::pair<int64_t, double>, int> count;
  for (LoraComponent c : kComponents) {
    for (const auto& [path, w] : weights.modules(c)) {
      if ((w.down.dim() == 4) == conv) ++count[{w.rank(), w.alpha_or_rank()}];
    }
  }
  std::optional<std::pair<int64_t, double>> best;
  int best_count = 0;
  for (const auto& [rank_alpha, n] : count) {
    if (n > best_count) best = rank_alpha, best_count = n;
  }
  return best;
}

std::map<std::string, std::string> MetadataFor(const LoraWeights& weights, LoraFileFormat format) {
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : weights.metadata) {
    bool owned_by_other = false;
    for (LoraFileFormat other : kFormats) {
      if (other != format && IsFormatOwnedMetadataKey(other, key)) owned_by_other = true;
    }
    if (!owned_by_other || IsFormatOwnedMetadataKey(format, key)) metadata[key] = value;
  }
  if (format == LoraFileFormat::kKohya) {
    metadata["ss_network_module"] = "networks.lora";
    if (auto linear = DominantRankAlpha(weights, /*conv=*/false)) {
      metadata["ss_network_dim"] = std::to_string(linear->first);
      metadata["ss_network_alpha"] = PythonFloat(linear->second);
    }
    if (auto conv = DominantRankAlpha(weights, /*conv=*/true)) {
      metadata["ss_network_args"] = absl::StrCat("{\"conv_dim\": \"", conv->first, "\", \"conv_alpha\": \"",
                                                 PythonFloat(conv->second), "\"}");
    }
  } else {
    metadata["format"] = "pt";  // what diffusers passes to safetensors' save_file
    if (format == LoraFileFormat::kPeft) {
      metadata[kPeftAdapterMetadataKey] = PeftAdapterMetadataJson(weights);
    } else {
      metadata.erase(kPeftAdapterMetadataKey);
    }
  }
  return metadata;
}

// sd-scripts' precalculated hashes, which sd-webui-additional-networks
// shows and looks LoRAs up by: over the file holding the same tensors and
// only the ss_* metadata (so that editing other metadata keeps them),
// sshs_model_hash = sha256 of everything after the header,
// sshs_legacy_hash = the first 8 hex digits of the sha256 of the 64 KiB at
// offset 1 MiB (fewer bytes, or none, when the file is shorter).
absl::Status AddKohyaHashes(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                            std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> training;
  for (const auto& [key, value] : metadata) {
    if (absl::StartsWith(key, "ss_")) training[key] = value;
  }
  ASSIGN_OR_RETURN(const std::string bytes, core::SerializeSafetensors(tensors, training));
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  const absl::string_view all(bytes);
  metadata["sshs_model_hash"] = core::Sha256Hex(all.substr(8 + header_size));
  constexpr size_t kLegacyOffset = 0x100000, kLegacySize = 0x10000;
  const absl::string_view legacy = all.size() > kLegacyOffset ? all.substr(kLegacyOffset, kLegacySize) : "";
  metadata["sshs_legacy_hash"] = core::Sha256Hex(legacy).substr(0, 8);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteLoraFile(const std::string& path, const LoraWeights& weights, LoraFileFormat format) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (LoraComponent c : kComponents) {
    for (const auto& [module, w] : weights.modules(c)) {
      RETURN_IF_ERROR(CheckPairShapes(module, w));
      at::Tensor up = w.up;
      if (format == LoraFileFormat::kKohya) {
        tensors.emplace_back(LoraKey(format, c, module, LoraTensorRole::kAlpha),
                             torch::scalar_tensor(w.alpha_or_rank(), w.down.options().device(torch::kCPU)));
      } else if (w.alpha_or_rank() != static_cast<double>(w.rank())) {
        // These formats have no alpha: fold alpha / rank into up.
        up = (w.up.to(torch::kDouble) * w.alpha_over_rank()).to(w.up.scalar_type());
      }
      tensors.emplace_back(LoraKey(format, c, module, LoraTensorRole::kDown), w.down);
      tensors.emplace_back(LoraKey(format, c, module, LoraTensorRole::kUp), up);
    }
  }
  std::map<std::string, std::string> metadata = MetadataFor(weights, format);
  if (format == LoraFileFormat::kKohya) RETURN_IF_ERROR(AddKohyaHashes(tensors, metadata));
  return core::WriteSafetensors(path, tensors, metadata);
}

}  // namespace dreamshot::models::lora

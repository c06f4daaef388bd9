#include "core/ldm_key_mapping.h"

#include <torch/torch.h>

#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/types/span.h"

namespace dreamshot::core {
namespace {

// A rename of a leading run of whole dotted parts: both end with '.'.
struct Rename {
  absl::string_view from;
  absl::string_view to;
  bool squeeze_weight = false;  // "<to>weight" is a 1x1 conv -> linear weight
};

// ---- Tables ---------------------------------------------------------------

// UNet names with no block structure.
constexpr Rename kUNetTop[] = {
    {"time_embed.0.", "time_embedding.linear_1."},
    {"time_embed.2.", "time_embedding.linear_2."},
    {"input_blocks.0.0.", "conv_in."},
    {"out.0.", "conv_norm_out."},
    {"out.2.", "conv_out."},
};
// Inside a UNet ResBlock (input_blocks.i.0, middle_block.0/2, output_blocks.i.0).
constexpr Rename kUNetResnet[] = {
    {"in_layers.0.", "norm1."},         {"in_layers.2.", "conv1."},  {"emb_layers.1.", "time_emb_proj."},
    {"out_layers.0.", "norm2."},        {"out_layers.3.", "conv2."}, {"skip_connection.", "conv_shortcut."},
};
// Inside a UNet SpatialTransformer: names are identical to diffusers'.
constexpr Rename kUNetAttention[] = {
    {"norm.", "norm."},
    {"proj_in.", "proj_in."},
    {"proj_out.", "proj_out."},
    {"transformer_blocks.", "transformer_blocks."},
};

// VAE names with no block structure (after first_stage_model.).
constexpr Rename kVaeTop[] = {
    {"encoder.conv_in.", "encoder.conv_in."},   {"encoder.conv_out.", "encoder.conv_out."},
    {"encoder.norm_out.", "encoder.conv_norm_out."}, {"decoder.conv_in.", "decoder.conv_in."},
    {"decoder.conv_out.", "decoder.conv_out."}, {"decoder.norm_out.", "decoder.conv_norm_out."},
    {"quant_conv.", "quant_conv."},             {"post_quant_conv.", "post_quant_conv."},
};
constexpr Rename kVaeResnet[] = {
    {"norm1.", "norm1."}, {"conv1.", "conv1."},          {"norm2.", "norm2."},
    {"conv2.", "conv2."}, {"nin_shortcut.", "conv_shortcut."},
};
// The VAE mid-block AttnBlock: 1x1 convs in LDM, linears in diffusers >= 0.14.
constexpr Rename kVaeAttention[] = {
    {"norm.", "group_norm."},
    {"q.", "to_q.", true},
    {"k.", "to_k.", true},
    {"v.", "to_v.", true},
    {"proj_out.", "to_out.0.", true},
};
// VAE mid block (after "<encoder|decoder>.mid.").
struct MidRule {
  absl::string_view from;
  absl::string_view to;
  absl::Span<const Rename> inner;
};
constexpr MidRule kVaeMid[] = {
    {"block_1.", "mid_block.resnets.0.", kVaeResnet},
    {"attn_1.", "mid_block.attentions.0.", kVaeAttention},
    {"block_2.", "mid_block.resnets.1.", kVaeResnet},
};
// UNet middle block (after "middle_block.").
constexpr MidRule kUNetMid[] = {
    {"0.", "mid_block.resnets.0.", kUNetResnet},
    {"1.", "mid_block.attentions.0.", kUNetAttention},
    {"2.", "mid_block.resnets.1.", kUNetResnet},
};

// The text encoder parts below text_model (after cond_stage_model.transformer.).
constexpr absl::string_view kTextModelParts[] = {"embeddings.", "encoder.", "final_layer_norm."};

// ---- Helpers --------------------------------------------------------------

// `out_prefix` + the renamed `rest` by the first matching table entry; the
// remainder after the matched prefix must be non-empty.
std::optional<MappedKey> RenameBy(absl::string_view rest, absl::Span<const Rename> table,
                                  absl::string_view out_prefix = "") {
  for (const Rename& rename : table) {
    if (rest.size() > rename.from.size() && absl::StartsWith(rest, rename.from)) {
      const absl::string_view tail = rest.substr(rename.from.size());
      return MappedKey{absl::StrCat(out_prefix, rename.to, tail), rename.squeeze_weight && tail == "weight"};
    }
  }
  return std::nullopt;
}

std::optional<MappedKey> RenameMid(absl::string_view rest, absl::Span<const MidRule> rules, absl::string_view out) {
  for (const MidRule& rule : rules) {
    if (absl::ConsumePrefix(&rest, rule.from)) return RenameBy(rest, rule.inner, absl::StrCat(out, rule.to));
  }
  return std::nullopt;
}

// Consumes "<digits>." from the front of `rest`.
std::optional<int> ConsumeIndex(absl::string_view* rest) {
  const size_t dot = rest->find('.');
  if (dot == absl::string_view::npos || dot == 0) return std::nullopt;
  const absl::string_view digits = rest->substr(0, dot);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int value = 0;
  if (!absl::SimpleAtoi(digits, &value)) return std::nullopt;
  rest->remove_prefix(dot + 1);
  return value;
}

std::string Block(absl::string_view kind, int block, absl::string_view part, int index) {
  return absl::StrCat(kind, ".", block, ".", part, ".", index, ".");
}

// input_blocks.{i}.{k}.*: i = 1 + b*(L+1) + j holds resnet j (k=0) and
// attention j (k=1) of down block b for j < L; j = L is the downsampler
// (k=0, "op") of every block but the last.
std::optional<MappedKey> MapInputBlock(absl::string_view rest, const LdmBlockLayout& layout) {
  const auto i = ConsumeIndex(&rest);
  const auto k = ConsumeIndex(&rest);
  if (!i || !k || *i < 1) return std::nullopt;
  const int per_block = layout.layers_per_block + 1;
  const int b = (*i - 1) / per_block;
  const int j = (*i - 1) % per_block;
  if (b >= layout.num_blocks) return std::nullopt;
  if (j < layout.layers_per_block) {
    if (*k == 0) return RenameBy(rest, kUNetResnet, Block("down_blocks", b, "resnets", j));
    if (*k == 1) return RenameBy(rest, kUNetAttention, Block("down_blocks", b, "attentions", j));
    return std::nullopt;
  }
  if (*k == 0 && b < layout.num_blocks - 1 && absl::ConsumePrefix(&rest, "op.") && !rest.empty()) {
    return MappedKey{absl::StrCat(Block("down_blocks", b, "downsamplers", 0), "conv.", rest)};
  }
  return std::nullopt;
}

// output_blocks.{i}.{k}.*: i = b*(L+1) + j holds resnet j (k=0) and
// attention j (k=1) of up block b; the last layer of every block but the
// last also holds the upsampler: the ".conv." module after the resnet (k=1)
// or after the attention (k=2).
std::optional<MappedKey> MapOutputBlock(absl::string_view rest, const LdmBlockLayout& layout) {
  const auto i = ConsumeIndex(&rest);
  const auto k = ConsumeIndex(&rest);
  if (!i || !k) return std::nullopt;
  const int per_block = layout.layers_per_block + 1;
  const int b = *i / per_block;
  const int j = *i % per_block;
  if (b >= layout.num_blocks) return std::nullopt;
  if (*k == 0) return RenameBy(rest, kUNetResnet, Block("up_blocks", b, "resnets", j));
  if ((*k == 1 || *k == 2) && j == layout.layers_per_block && b < layout.num_blocks - 1 &&
      absl::ConsumePrefix(&rest, "conv.") && !rest.empty()) {
    return MappedKey{absl::StrCat(Block("up_blocks", b, "upsamplers", 0), "conv.", rest)};
  }
  if (*k == 1) return RenameBy(rest, kUNetAttention, Block("up_blocks", b, "attentions", j));
  return std::nullopt;
}

// "<side>.down.{b}.*" / "<side>.up.{i}.*" of the VAE; up blocks are stored
// in reverse order in LDM: up.{i} is up_blocks.{N-1-i}.
std::optional<MappedKey> MapVaeSampleBlock(absl::string_view rest, absl::string_view side, bool down,
                                           const LdmBlockLayout& layout) {
  const auto index = ConsumeIndex(&rest);
  if (!index || *index >= layout.num_blocks) return std::nullopt;
  const int b = down ? *index : layout.num_blocks - 1 - *index;
  const std::string kind = absl::StrCat(side, down ? ".down_blocks" : ".up_blocks");
  if (absl::ConsumePrefix(&rest, "block.")) {
    const auto j = ConsumeIndex(&rest);
    if (!j) return std::nullopt;
    return RenameBy(rest, kVaeResnet, Block(kind, b, "resnets", *j));
  }
  const absl::string_view sampler = down ? "downsample.conv." : "upsample.conv.";
  if (b < layout.num_blocks - 1 && absl::ConsumePrefix(&rest, sampler) && !rest.empty()) {
    return MappedKey{absl::StrCat(Block(kind, b, down ? "downsamplers" : "upsamplers", 0), "conv.", rest)};
  }
  return std::nullopt;
}

using KeyMapper = std::function<std::optional<MappedKey>(absl::string_view)>;

absl::StatusOr<ConvertedTensors> Convert(const std::map<std::string, at::Tensor>& ldm, absl::string_view prefix,
                                         const KeyMapper& map_key, bool strict, const std::string& source,
                                         absl::string_view component) {
  ConvertedTensors out;
  std::map<std::string, std::string> origin;  // diffusers name -> LDM name
  int seen = 0;
  try {
    for (const auto& [key, tensor] : ldm) {
      if (!absl::StartsWith(key, prefix)) continue;
      ++seen;
      std::optional<MappedKey> mapped = map_key(key);
      if (!mapped) {
        out.unmapped.push_back(key);
        continue;
      }
      at::Tensor value = tensor;
      if (mapped->squeeze_1x1) {
        if (value.dim() != 4 || value.size(2) != 1 || value.size(3) != 1) {
          return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, " has shape ",
                                                         c10::str(value.sizes()), ", expected a 1x1 conv weight"));
        }
        value = value.reshape({value.size(0), value.size(1)});  // [C, C', 1, 1] -> [C, C']
      }
      auto [it, inserted] = out.tensors.emplace(mapped->name, value);
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, " and ", origin[mapped->name],
                                                       " both map to ", mapped->name));
      }
      origin[mapped->name] = key;
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(source, ": converting ", component, ": ", e.what_without_backtrace()));
  }
  if (seen == 0) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no ", component, " tensors (no key starts with '",
                                                   prefix, "')"));
  }
  if (strict && !out.unmapped.empty()) {
    const size_t shown = std::min<size_t>(out.unmapped.size(), 10);
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": ", out.unmapped.size(), " ", component, " key(s) no LDM->diffusers rule covers: ",
        absl::StrJoin(out.unmapped.begin(), out.unmapped.begin() + shown, ", "),
        out.unmapped.size() > shown ? ", ..." : ""));
  }
  return out;
}

}  // namespace

absl::StatusOr<LdmBlockLayout> LdmBlockLayoutFromConfig(const JsonConfig& config) {
  auto channels = config.IntList("block_out_channels");
  if (!channels.ok()) return channels.status();
  auto layers = config.Int("layers_per_block");
  if (!layers.ok()) return layers.status();
  if (channels->empty() || *layers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(config.source(), ": block_out_channels must be non-empty and layers_per_block >= 1"));
  }
  return LdmBlockLayout{static_cast<int>(channels->size()), static_cast<int>(*layers)};
}

std::optional<MappedKey> MapLdmUNetKey(absl::string_view key, const LdmBlockLayout& layout) {
  if (!absl::ConsumePrefix(&key, kLdmUNetPrefix)) return std::nullopt;
  if (auto top = RenameBy(key, kUNetTop)) return top;
  if (absl::ConsumePrefix(&key, "input_blocks.")) return MapInputBlock(key, layout);
  if (absl::ConsumePrefix(&key, "middle_block.")) return RenameMid(key, kUNetMid, "");
  if (absl::ConsumePrefix(&key, "output_blocks.")) return MapOutputBlock(key, layout);
  return std::nullopt;
}

std::optional<MappedKey> MapLdmVaeKey(absl::string_view key, const LdmBlockLayout& layout) {
  if (!absl::ConsumePrefix(&key, kLdmVaePrefix)) return std::nullopt;
  if (auto top = RenameBy(key, kVaeTop)) return top;
  for (absl::string_view side : {"encoder", "decoder"}) {
    absl::string_view rest = key;
    if (!absl::ConsumePrefix(&rest, side) || !absl::ConsumePrefix(&rest, ".")) continue;
    if (absl::ConsumePrefix(&rest, "mid.")) return RenameMid(rest, kVaeMid, absl::StrCat(side, "."));
    const bool encoder = side == "encoder";
    if (absl::ConsumePrefix(&rest, encoder ? "down." : "up.")) return MapVaeSampleBlock(rest, side, encoder, layout);
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<MappedKey> MapLdmTextEncoderKey(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kLdmTextEncoderPrefix) || !absl::ConsumePrefix(&key, "transformer.")) {
    return std::nullopt;
  }
  absl::ConsumePrefix(&key, "text_model.");  // newer transformers nest the model one level deeper
  for (absl::string_view part : kTextModelParts) {
    if (key.size() > part.size() && absl::StartsWith(key, part)) return MappedKey{absl::StrCat("text_model.", key)};
  }
  return std::nullopt;
}

absl::StatusOr<ConvertedTensors> ConvertLdmUNet(const std::map<std::string, at::Tensor>& ldm,
                                                const LdmBlockLayout& layout, bool strict,
                                                const std::string& source) {
  return Convert(
      ldm, kLdmUNetPrefix, [&layout](absl::string_view key) { return MapLdmUNetKey(key, layout); }, strict, source,
      "UNet");
}

absl::StatusOr<ConvertedTensors> ConvertLdmVae(const std::map<std::string, at::Tensor>& ldm,
                                               const LdmBlockLayout& layout, bool strict, const std::string& source) {
  return Convert(
      ldm, kLdmVaePrefix, [&layout](absl::string_view key) { return MapLdmVaeKey(key, layout); }, strict, source,
      "VAE");
}

absl::StatusOr<ConvertedTensors> ConvertLdmTextEncoder(const std::map<std::string, at::Tensor>& ldm, bool strict,
                                                       const std::string& source) {
  return Convert(ldm, kLdmTextEncoderPrefix, MapLdmTextEncoderKey, strict, source, "text encoder");
}

}  // namespace dreamshot::core

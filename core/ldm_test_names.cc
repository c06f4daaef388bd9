#include "core/ldm_test_names.h"

#include <torch/torch.h>

#include <regex>
#include <stdexcept>

namespace dreamshot::core::testing {
namespace {

std::string UNetResnetPart(const std::string& rest) {
  static const std::pair<const char*, const char*> kParts[] = {
      {"norm1.", "in_layers.0."},  {"conv1.", "in_layers.2."}, {"time_emb_proj.", "emb_layers.1."},
      {"norm2.", "out_layers.0."}, {"conv2.", "out_layers.3."}, {"conv_shortcut.", "skip_connection."}};
  for (const auto& [from, to] : kParts) {
    const std::string f(from);
    if (rest.compare(0, f.size(), f) == 0) return to + rest.substr(f.size());
  }
  return "";
}

std::string UNetName(const std::string& name, const std::set<std::string>& all, int n, int l) {
  std::smatch m;
  const std::string p = "model.diffusion_model.";
  auto num = [&m](int i) { return std::stoi(m[i].str()); };
  auto resnet = [](const std::string& head, const std::string& rest) {
    const std::string part = UNetResnetPart(rest);
    return part.empty() ? std::string() : head + part;
  };
  if (std::regex_match(name, m, std::regex(R"(conv_in\.(.+))"))) return p + "input_blocks.0.0." + m[1].str();
  if (std::regex_match(name, m, std::regex(R"(time_embedding\.linear_([12])\.(.+))"))) {
    return p + "time_embed." + (m[1] == "1" ? "0." : "2.") + m[2].str();
  }
  if (std::regex_match(name, m, std::regex(R"(conv_norm_out\.(.+))"))) return p + "out.0." + m[1].str();
  if (std::regex_match(name, m, std::regex(R"(conv_out\.(.+))"))) return p + "out.2." + m[1].str();
  if (std::regex_match(name, m, std::regex(R"(down_blocks\.(\d+)\.resnets\.(\d+)\.(.+))"))) {
    return resnet(p + "input_blocks." + std::to_string(1 + num(1) * (l + 1) + num(2)) + ".0.", m[3].str());
  }
  if (std::regex_match(name, m, std::regex(R"(down_blocks\.(\d+)\.attentions\.(\d+)\.(.+))"))) {
    return p + "input_blocks." + std::to_string(1 + num(1) * (l + 1) + num(2)) + ".1." + m[3].str();
  }
  if (std::regex_match(name, m, std::regex(R"(down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+))"))) {
    return p + "input_blocks." + std::to_string((num(1) + 1) * (l + 1)) + ".0.op." + m[2].str();
  }
  if (std::regex_match(name, m, std::regex(R"(mid_block\.resnets\.([01])\.(.+))"))) {
    return resnet(p + "middle_block." + (m[1] == "0" ? "0." : "2."), m[2].str());
  }
  if (std::regex_match(name, m, std::regex(R"(mid_block\.attentions\.0\.(.+))"))) {
    return p + "middle_block.1." + m[1].str();
  }
  if (std::regex_match(name, m, std::regex(R"(up_blocks\.(\d+)\.resnets\.(\d+)\.(.+))"))) {
    return resnet(p + "output_blocks." + std::to_string(num(1) * (l + 1) + num(2)) + ".0.", m[3].str());
  }
  if (std::regex_match(name, m, std::regex(R"(up_blocks\.(\d+)\.attentions\.(\d+)\.(.+))"))) {
    return p + "output_blocks." + std::to_string(num(1) * (l + 1) + num(2)) + ".1." + m[3].str();
  }
  if (std::regex_match(name, m, std::regex(R"(up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+))"))) {
    const std::string attn_prefix = "up_blocks." + m[1].str() + ".attentions.";
    auto it = all.lower_bound(attn_prefix);
    const bool has_attention = it != all.end() && it->compare(0, attn_prefix.size(), attn_prefix) == 0;
    return p + "output_blocks." + std::to_string(num(1) * (l + 1) + l) + (has_attention ? ".2.conv." : ".1.conv.") +
           m[2].str();
  }
  (void)n;
  return "";
}

std::string VaeResnetPart(const std::string& rest) {
  if (rest.rfind("conv_shortcut.", 0) == 0) return "nin_shortcut." + rest.substr(14);
  for (const char* same : {"norm1.", "conv1.", "norm2.", "conv2."}) {
    if (rest.rfind(same, 0) == 0) return rest;
  }
  return "";
}

std::string VaeName(const std::string& name, int n) {
  std::smatch m;
  const std::string p = "first_stage_model.";
  auto num = [&m](int i) { return std::stoi(m[i].str()); };
  if (std::regex_match(name, m, std::regex(R"((encoder|decoder)\.conv_norm_out\.(.+))"))) {
    return p + m[1].str() + ".norm_out." + m[2].str();
  }
  if (std::regex_match(name, m, std::regex(R"(((encoder|decoder)\.conv_(in|out)|quant_conv|post_quant_conv)\..+)"))) {
    return p + name;
  }
  if (std::regex_match(name, m, std::regex(R"(encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+))"))) {
    const std::string part = VaeResnetPart(m[3].str());
    return part.empty() ? "" : p + "encoder.down." + m[1].str() + ".block." + m[2].str() + "." + part;
  }
  if (std::regex_match(name, m, std::regex(R"(encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+))"))) {
    return p + "encoder.down." + m[1].str() + ".downsample.conv." + m[2].str();
  }
  if (std::regex_match(name, m, std::regex(R"(decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+))"))) {
    const std::string part = VaeResnetPart(m[3].str());
    return part.empty() ? "" : p + "decoder.up." + std::to_string(n - 1 - num(1)) + ".block." + m[2].str() + "." + part;
  }
  if (std::regex_match(name, m, std::regex(R"(decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+))"))) {
    return p + "decoder.up." + std::to_string(n - 1 - num(1)) + ".upsample.conv." + m[2].str();
  }
  if (std::regex_match(name, m, std::regex(R"((encoder|decoder)\.mid_block\.resnets\.([01])\.(.+))"))) {
    const std::string part = VaeResnetPart(m[3].str());
    return part.empty() ? "" : p + m[1].str() + ".mid.block_" + (m[2] == "0" ? "1." : "2.") + part;
  }
  if (std::regex_match(name, m,
                       std::regex(R"((encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(.+))"))) {
    const std::string module = m[2].str();
    const std::string ldm = module == "group_norm" ? "norm"
                            : module == "to_out.0" ? "proj_out"
                                                   : module.substr(3);  // q, k, v
    return p + m[1].str() + ".mid.attn_1." + ldm + "." + m[3].str();
  }
  return "";
}

}  // namespace

std::string LdmNameFor(const std::string& component, const std::string& name, const std::set<std::string>& all,
                       int num_blocks, int layers_per_block) {
  if (component == "unet") return UNetName(name, all, num_blocks, layers_per_block);
  if (component == "vae") return VaeName(name, num_blocks);
  if (name.rfind("text_model.", 0) != 0) return "";
  if (component == "text_encoder") return "cond_stage_model.transformer." + name;
  if (component == "text_encoder_legacy") return "cond_stage_model.transformer." + name.substr(11);
  return "";
}

std::map<std::string, at::Tensor> ToLdmTensors(const std::string& component,
                                               const std::map<std::string, at::Tensor>& diffusers, int num_blocks,
                                               int layers_per_block) {
  std::set<std::string> all;
  for (const auto& [name, tensor] : diffusers) all.insert(name);
  std::map<std::string, at::Tensor> out;
  const std::regex vae_linear(R"((encoder|decoder)\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight)");
  for (const auto& [name, tensor] : diffusers) {
    const std::string ldm = LdmNameFor(component, name, all, num_blocks, layers_per_block);
    if (ldm.empty()) throw std::runtime_error("no LDM name for " + component + " tensor " + name);
    at::Tensor value = tensor;
    if (component == "vae" && std::regex_match(name, vae_linear)) {
      value = value.reshape({value.size(0), value.size(1), 1, 1});  // [C, C] -> [C, C, 1, 1]
    }
    if (!out.emplace(ldm, value).second) throw std::runtime_error("duplicate LDM name " + ldm);
  }
  return out;
}

}  // namespace dreamshot::core::testing

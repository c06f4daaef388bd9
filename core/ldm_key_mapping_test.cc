#include "core/ldm_key_mapping.h"

#include <torch/torch.h>

#include <set>

#include "core/json_config.h"
#include "core/ldm_test_names.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "gtest/gtest.h"

namespace dreamshot::core {
namespace {

constexpr LdmBlockLayout kSd15UNet{4, 2};
constexpr LdmBlockLayout kSdVae{4, 2};

std::string UNet(const std::string& key) {
  auto mapped = MapLdmUNetKey("model.diffusion_model." + key, kSd15UNet);
  return mapped ? mapped->name : "<unmapped>";
}
std::string Vae(const std::string& key) {
  auto mapped = MapLdmVaeKey("first_stage_model." + key, kSdVae);
  return mapped ? mapped->name : "<unmapped>";
}
std::string Text(const std::string& key) {
  auto mapped = MapLdmTextEncoderKey("cond_stage_model." + key);
  return mapped ? mapped->name : "<unmapped>";
}

TEST(LdmKeyMappingTest, UNetKnownPairsSd15) {
  EXPECT_EQ(UNet("input_blocks.1.1.proj_in.weight"), "down_blocks.0.attentions.0.proj_in.weight");
  EXPECT_EQ(UNet("output_blocks.2.1.conv.weight"), "up_blocks.0.upsamplers.0.conv.weight");
  EXPECT_EQ(UNet("output_blocks.5.2.conv.bias"), "up_blocks.1.upsamplers.0.conv.bias");
  EXPECT_EQ(UNet("input_blocks.0.0.weight"), "conv_in.weight");
  EXPECT_EQ(UNet("time_embed.0.weight"), "time_embedding.linear_1.weight");
  EXPECT_EQ(UNet("time_embed.2.bias"), "time_embedding.linear_2.bias");
  EXPECT_EQ(UNet("input_blocks.3.0.op.weight"), "down_blocks.0.downsamplers.0.conv.weight");
  EXPECT_EQ(UNet("input_blocks.9.0.op.bias"), "down_blocks.2.downsamplers.0.conv.bias");
  EXPECT_EQ(UNet("input_blocks.4.0.skip_connection.weight"), "down_blocks.1.resnets.0.conv_shortcut.weight");
  EXPECT_EQ(UNet("input_blocks.11.0.out_layers.3.bias"), "down_blocks.3.resnets.1.conv2.bias");
  EXPECT_EQ(UNet("input_blocks.8.1.transformer_blocks.0.ff.net.0.proj.weight"),
            "down_blocks.2.attentions.1.transformer_blocks.0.ff.net.0.proj.weight");
  EXPECT_EQ(UNet("middle_block.0.in_layers.2.weight"), "mid_block.resnets.0.conv1.weight");
  EXPECT_EQ(UNet("middle_block.1.transformer_blocks.0.attn2.to_k.weight"),
            "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight");
  EXPECT_EQ(UNet("middle_block.2.emb_layers.1.weight"), "mid_block.resnets.1.time_emb_proj.weight");
  EXPECT_EQ(UNet("output_blocks.0.0.in_layers.0.weight"), "up_blocks.0.resnets.0.norm1.weight");
  EXPECT_EQ(UNet("output_blocks.11.1.norm.weight"), "up_blocks.3.attentions.2.norm.weight");
  EXPECT_EQ(UNet("output_blocks.8.0.out_layers.0.bias"), "up_blocks.2.resnets.2.norm2.bias");
  EXPECT_EQ(UNet("out.0.weight"), "conv_norm_out.weight");
  EXPECT_EQ(UNet("out.2.bias"), "conv_out.bias");
}

TEST(LdmKeyMappingTest, UNetUncoveredKeys) {
  EXPECT_EQ(UNet("input_blocks.12.0.op.weight"), "<unmapped>");  // the last block has no downsampler
  EXPECT_EQ(UNet("output_blocks.11.2.conv.weight"), "<unmapped>");  // nor an upsampler
  EXPECT_EQ(UNet("output_blocks.12.0.in_layers.0.weight"), "<unmapped>");
  EXPECT_EQ(UNet("label_emb.0.0.weight"), "<unmapped>");
  EXPECT_EQ(UNet("input_blocks.1.0.in_layers.1.weight"), "<unmapped>");
  EXPECT_FALSE(MapLdmUNetKey("first_stage_model.quant_conv.weight", kSd15UNet).has_value());
}

TEST(LdmKeyMappingTest, VaeKnownPairs) {
  EXPECT_EQ(Vae("decoder.up.3.block.0.conv1.weight"), "decoder.up_blocks.0.resnets.0.conv1.weight");
  EXPECT_EQ(Vae("decoder.up.0.block.2.norm2.weight"), "decoder.up_blocks.3.resnets.2.norm2.weight");
  EXPECT_EQ(Vae("decoder.up.1.upsample.conv.bias"), "decoder.up_blocks.2.upsamplers.0.conv.bias");
  EXPECT_EQ(Vae("encoder.down.0.downsample.conv.weight"), "encoder.down_blocks.0.downsamplers.0.conv.weight");
  EXPECT_EQ(Vae("encoder.down.1.block.0.nin_shortcut.bias"), "encoder.down_blocks.1.resnets.0.conv_shortcut.bias");
  EXPECT_EQ(Vae("encoder.norm_out.weight"), "encoder.conv_norm_out.weight");
  EXPECT_EQ(Vae("decoder.norm_out.bias"), "decoder.conv_norm_out.bias");
  EXPECT_EQ(Vae("encoder.conv_in.weight"), "encoder.conv_in.weight");
  EXPECT_EQ(Vae("decoder.mid.block_2.conv1.weight"), "decoder.mid_block.resnets.1.conv1.weight");
  EXPECT_EQ(Vae("encoder.mid.block_1.norm1.bias"), "encoder.mid_block.resnets.0.norm1.bias");
  EXPECT_EQ(Vae("decoder.mid.attn_1.norm.bias"), "decoder.mid_block.attentions.0.group_norm.bias");
  EXPECT_EQ(Vae("quant_conv.weight"), "quant_conv.weight");
  EXPECT_EQ(Vae("post_quant_conv.bias"), "post_quant_conv.bias");

  auto q = MapLdmVaeKey("first_stage_model.encoder.mid.attn_1.q.weight", kSdVae);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->name, "encoder.mid_block.attentions.0.to_q.weight");
  EXPECT_TRUE(q->squeeze_1x1);
  auto out = MapLdmVaeKey("first_stage_model.decoder.mid.attn_1.proj_out.weight", kSdVae);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->name, "decoder.mid_block.attentions.0.to_out.0.weight");
  EXPECT_TRUE(out->squeeze_1x1);
  auto k_bias = MapLdmVaeKey("first_stage_model.encoder.mid.attn_1.k.bias", kSdVae);
  ASSERT_TRUE(k_bias.has_value());
  EXPECT_EQ(k_bias->name, "encoder.mid_block.attentions.0.to_k.bias");
  EXPECT_FALSE(k_bias->squeeze_1x1);
}

TEST(LdmKeyMappingTest, VaeUncoveredKeys) {
  EXPECT_EQ(Vae("decoder.up.0.upsample.conv.weight"), "<unmapped>");  // up.0 is the last up block
  EXPECT_EQ(Vae("encoder.down.3.downsample.conv.weight"), "<unmapped>");
  EXPECT_EQ(Vae("encoder.down.4.block.0.conv1.weight"), "<unmapped>");
  EXPECT_EQ(Vae("loss.logvar"), "<unmapped>");
}

TEST(LdmKeyMappingTest, TextEncoderKnownPairs) {
  EXPECT_EQ(Text("transformer.text_model.embeddings.position_ids"), "text_model.embeddings.position_ids");
  EXPECT_EQ(Text("transformer.embeddings.position_ids"), "text_model.embeddings.position_ids");
  EXPECT_EQ(Text("transformer.text_model.embeddings.token_embedding.weight"),
            "text_model.embeddings.token_embedding.weight");
  EXPECT_EQ(Text("transformer.embeddings.position_embedding.weight"),
            "text_model.embeddings.position_embedding.weight");
  EXPECT_EQ(Text("transformer.text_model.encoder.layers.11.self_attn.q_proj.weight"),
            "text_model.encoder.layers.11.self_attn.q_proj.weight");
  EXPECT_EQ(Text("transformer.encoder.layers.0.mlp.fc1.bias"), "text_model.encoder.layers.0.mlp.fc1.bias");
  EXPECT_EQ(Text("transformer.text_model.encoder.layers.3.layer_norm2.weight"),
            "text_model.encoder.layers.3.layer_norm2.weight");
  EXPECT_EQ(Text("transformer.encoder.layers.5.self_attn.out_proj.bias"),
            "text_model.encoder.layers.5.self_attn.out_proj.bias");
  EXPECT_EQ(Text("transformer.text_model.final_layer_norm.weight"), "text_model.final_layer_norm.weight");
  EXPECT_EQ(Text("transformer.final_layer_norm.bias"), "text_model.final_layer_norm.bias");
  EXPECT_EQ(Text("model.positional_embedding"), "<unmapped>");  // SD 2.x OpenCLIP
  EXPECT_EQ(Text("transformer.pooler.weight"), "<unmapped>");
}

TEST(LdmKeyMappingTest, ConvertSqueezesAndReportsUnmapped) {
  std::map<std::string, at::Tensor> ldm = {
      {"first_stage_model.encoder.mid.attn_1.v.weight", torch::ones({8, 8, 1, 1})},
      {"first_stage_model.encoder.mid.attn_1.v.bias", torch::ones({8})},
      {"first_stage_model.loss.logvar", torch::ones({})},
      {"model.diffusion_model.out.2.bias", torch::ones({4})},  // another component: ignored
  };
  auto converted = ConvertLdmVae(ldm, kSdVae, /*strict=*/false, "test.ckpt");
  ASSERT_TRUE(converted.ok()) << converted.status();
  ASSERT_EQ(converted->tensors.size(), 2u);
  EXPECT_EQ(converted->tensors.at("encoder.mid_block.attentions.0.to_v.weight").sizes(), (c10::IntArrayRef{8, 8}));
  EXPECT_EQ(converted->unmapped, std::vector<std::string>{"first_stage_model.loss.logvar"});

  auto strict = ConvertLdmVae(ldm, kSdVae, /*strict=*/true, "test.ckpt");
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(strict.status().message().find("first_stage_model.loss.logvar"), std::string::npos);
  EXPECT_NE(strict.status().message().find("test.ckpt"), std::string::npos);
}

TEST(LdmKeyMappingTest, ConvertErrors) {
  std::map<std::string, at::Tensor> bad_shape = {
      {"first_stage_model.encoder.mid.attn_1.q.weight", torch::ones({8, 8, 3, 3})}};
  EXPECT_FALSE(ConvertLdmVae(bad_shape, kSdVae, false, "x").ok());
  std::map<std::string, at::Tensor> duplicate = {
      {"cond_stage_model.transformer.final_layer_norm.bias", torch::ones({4})},
      {"cond_stage_model.transformer.text_model.final_layer_norm.bias", torch::ones({4})}};
  auto dup = ConvertLdmTextEncoder(duplicate, false, "x");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("both map to"), std::string::npos) << dup.status();
  std::map<std::string, at::Tensor> none = {{"first_stage_model.quant_conv.bias", torch::ones({4})}};
  auto empty = ConvertLdmUNet(none, kSd15UNet, false, "x");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no UNet tensors"), std::string::npos) << empty.status();
}

// Round trip over the real tiny diffusers models: diffusers names -> LDM
// names (independent generator) -> mapping -> exactly the diffusers set.
void CheckRoundTrip(const std::string& component, const std::string& weights, const std::string& variant) {
  const std::string folder = ReferencePath("tiny_sd/" + component);
  ASSERT_FALSE(folder.empty()) << "set DREAMSHOT_REFERENCE_DIR";
  auto file = SafetensorsFile::Open(folder + "/" + weights);
  ASSERT_TRUE(file.ok()) << file.status();
  auto diffusers = file->LoadAll();
  ASSERT_TRUE(diffusers.ok()) << diffusers.status();
  LdmBlockLayout layout;
  if (component != "text_encoder") {
    auto config = JsonConfig::FromFile(folder + "/config.json");
    ASSERT_TRUE(config.ok()) << config.status();
    auto parsed = LdmBlockLayoutFromConfig(*config);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    layout = *parsed;
  }
  const auto ldm = testing::ToLdmTensors(variant, *diffusers, layout.num_blocks, layout.layers_per_block);
  ASSERT_EQ(ldm.size(), diffusers->size());
  absl::StatusOr<ConvertedTensors> converted =
      component == "unet" ? ConvertLdmUNet(ldm, layout, /*strict=*/true, "roundtrip")
      : component == "vae" ? ConvertLdmVae(ldm, layout, /*strict=*/true, "roundtrip")
                           : ConvertLdmTextEncoder(ldm, /*strict=*/true, "roundtrip");
  ASSERT_TRUE(converted.ok()) << converted.status();
  std::set<std::string> expected, got;
  for (const auto& [name, t] : *diffusers) expected.insert(name);
  for (const auto& [name, t] : converted->tensors) got.insert(name);
  std::vector<std::string> missing, unexpected;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(unexpected));
  EXPECT_TRUE(missing.empty()) << component << " missing e.g. " << (missing.empty() ? "" : missing[0]);
  EXPECT_TRUE(unexpected.empty()) << component << " unexpected e.g. " << (unexpected.empty() ? "" : unexpected[0]);
  for (const auto& [name, tensor] : converted->tensors) {
    auto it = diffusers->find(name);
    if (it == diffusers->end()) continue;
    EXPECT_EQ(tensor.sizes(), it->second.sizes()) << name;
    EXPECT_TRUE(torch::equal(tensor, it->second)) << name;
  }
}

TEST(LdmKeyMappingTest, TinyUNetRoundTrip) {
  CheckRoundTrip("unet", "diffusion_pytorch_model.safetensors", "unet");
}
TEST(LdmKeyMappingTest, TinyVaeRoundTrip) { CheckRoundTrip("vae", "diffusion_pytorch_model.safetensors", "vae"); }
TEST(LdmKeyMappingTest, TinyTextEncoderRoundTrip) {
  CheckRoundTrip("text_encoder", "model.safetensors", "text_encoder");
  CheckRoundTrip("text_encoder", "model.safetensors", "text_encoder_legacy");
}

}  // namespace
}  // namespace dreamshot::core

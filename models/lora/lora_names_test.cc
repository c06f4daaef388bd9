#include "models/lora/lora_names.h"

#include <gtest/gtest.h>

namespace dreamshot::models::lora {
namespace {

TEST(ParseLoraKeyTest, EveryScheme) {
  struct Case {
    const char* key;
    LoraFileFormat format;
    LoraComponent component;
    const char* module;
    LoraTensorRole role;
  };
  const Case cases[] = {
      {"unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0.lora_A.weight", LoraFileFormat::kPeft,
       LoraComponent::kUNet, "mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0", LoraTensorRole::kDown},
      {"text_encoder.text_model.encoder.layers.1.mlp.fc1.lora_B.weight", LoraFileFormat::kPeft,
       LoraComponent::kTextEncoder, "text_model.encoder.layers.1.mlp.fc1", LoraTensorRole::kUp},
      {"unet.down_blocks.0.attentions.0.proj_in.lora.up.weight", LoraFileFormat::kDiffusersLegacy,
       LoraComponent::kUNet, "down_blocks.0.attentions.0.proj_in", LoraTensorRole::kUp},
      {"text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.down.weight",
       LoraFileFormat::kDiffusersLegacy, LoraComponent::kTextEncoder, "text_model.encoder.layers.0.self_attn.q_proj",
       LoraTensorRole::kDown},
      {"lora_unet_up_blocks_1_resnets_0_conv_shortcut.alpha", LoraFileFormat::kKohya, LoraComponent::kUNet,
       "up_blocks_1_resnets_0_conv_shortcut", LoraTensorRole::kAlpha},
      {"lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", LoraFileFormat::kKohya,
       LoraComponent::kTextEncoder, "text_model_encoder_layers_0_self_attn_q_proj", LoraTensorRole::kDown},
  };
  for (const Case& c : cases) {
    std::optional<ParsedLoraKey> parsed = ParseLoraKey(c.key);
    ASSERT_TRUE(parsed.has_value()) << c.key;
    EXPECT_EQ(parsed->format, c.format) << c.key;
    EXPECT_EQ(parsed->component, c.component) << c.key;
    EXPECT_EQ(parsed->module, c.module) << c.key;
    EXPECT_EQ(parsed->role, c.role) << c.key;
  }
  EXPECT_FALSE(ParseLoraKey("unet.down_blocks.0.resnets.0.conv1.weight"));
  EXPECT_FALSE(ParseLoraKey("lora_unet_.alpha"));
  EXPECT_FALSE(ParseLoraKey("vae.decoder.lora_A.weight"));
}

TEST(LoraKeyTest, WrittenKeysParseBack) {
  const std::string module = "down_blocks.1.attentions.0.transformer_blocks.0.ff.net.0.proj";
  EXPECT_EQ(LoraKey(LoraFileFormat::kPeft, LoraComponent::kUNet, module, LoraTensorRole::kDown),
            "unet." + module + ".lora_A.weight");
  EXPECT_EQ(LoraKey(LoraFileFormat::kDiffusersLegacy, LoraComponent::kUNet, module, LoraTensorRole::kUp),
            "unet." + module + ".lora.up.weight");
  EXPECT_EQ(LoraKey(LoraFileFormat::kKohya, LoraComponent::kUNet, module, LoraTensorRole::kAlpha),
            "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_ff_net_0_proj.alpha");
  EXPECT_EQ(LoraKey(LoraFileFormat::kKohya, LoraComponent::kTextEncoder,
                    "text_model.encoder.layers.0.self_attn.q_proj", LoraTensorRole::kUp),
            "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight");
  for (LoraFileFormat f : {LoraFileFormat::kPeft, LoraFileFormat::kDiffusersLegacy, LoraFileFormat::kKohya}) {
    for (LoraComponent c : {LoraComponent::kUNet, LoraComponent::kTextEncoder}) {
      auto parsed = ParseLoraKey(LoraKey(f, c, module, LoraTensorRole::kDown));
      ASSERT_TRUE(parsed) << FormatName(f);
      EXPECT_EQ(parsed->format, f);
      EXPECT_EQ(parsed->component, c);
    }
  }
}

TEST(KohyaNameResolverTest, ResolvesByLookupNotByString) {
  auto resolver = KohyaNameResolver::Build({"down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
                                            "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj",
                                            "down_blocks.0.resnets.0.time_emb_proj"});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  EXPECT_EQ(resolver->Resolve("down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"),
            "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q");
  EXPECT_EQ(resolver->Resolve("down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj"),
            "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj");
  EXPECT_EQ(resolver->Resolve("down_blocks_0_resnets_0_time_emb_proj"), "down_blocks.0.resnets.0.time_emb_proj");
  EXPECT_FALSE(resolver->Resolve("down_blocks_0_resnets_0_conv1"));
}

TEST(KohyaNameResolverTest, AmbiguousNamesAreAnError) {
  auto resolver = KohyaNameResolver::Build({"a.b_c", "a_b.c"});
  ASSERT_FALSE(resolver.ok());
  EXPECT_NE(resolver.status().message().find("a.b_c"), std::string::npos);
  EXPECT_NE(resolver.status().message().find("a_b.c"), std::string::npos);
}

TEST(MetadataOwnershipTest, Table) {
  EXPECT_TRUE(IsFormatOwnedMetadataKey(LoraFileFormat::kKohya, "ss_network_dim"));
  EXPECT_TRUE(IsFormatOwnedMetadataKey(LoraFileFormat::kPeft, "lora_adapter_metadata"));
  EXPECT_FALSE(IsFormatOwnedMetadataKey(LoraFileFormat::kKohya, "ss_training_comment"));
  EXPECT_FALSE(IsFormatOwnedMetadataKey(LoraFileFormat::kPeft, "ss_network_dim"));
}

}  // namespace
}  // namespace dreamshot::models::lora

// ViTModel (DINO layout): upstream names and shapes, DINO ViT-S/16's size,
// the reference model's outputs, the original DINO key names giving the
// same network, and errors that name the tensor and the config key.
#include "models/vit/vit_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/component_weights.h"
#include "core/json_config.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "models/module_shapes.h"
#include "models/vit/vit_loading.h"

namespace dreamshot::models::vit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path TempDir(const std::string& name) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

ViTConfig ReferenceConfig() {
  auto json = core::JsonConfig::FromFile(core::ReferencePath("dino_vit/config.json"));
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = ViTConfig::FromJson(*json);
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// transformers names → the original DINO names (the inverse of
// DinoToTransformersKeys, written out here independently).
TensorMap ToDinoKeys(const TensorMap& hf, int64_t layers) {
  TensorMap dino;
  dino["cls_token"] = hf.at("embeddings.cls_token");
  dino["pos_embed"] = hf.at("embeddings.position_embeddings");
  dino["patch_embed.proj.weight"] = hf.at("embeddings.patch_embeddings.projection.weight");
  dino["patch_embed.proj.bias"] = hf.at("embeddings.patch_embeddings.projection.bias");
  dino["norm.weight"] = hf.at("layernorm.weight");
  dino["norm.bias"] = hf.at("layernorm.bias");
  for (int64_t i = 0; i < layers; ++i) {
    const std::string t = absl::StrCat("encoder.layer.", i, "."), d = absl::StrCat("blocks.", i, ".");
    for (const char* p : {"weight", "bias"}) {
      const std::string s = p;
      dino[d + "attn.qkv." + s] = torch::cat({hf.at(t + "attention.attention.query." + s),
                                              hf.at(t + "attention.attention.key." + s),
                                              hf.at(t + "attention.attention.value." + s)});
      dino[d + "norm1." + s] = hf.at(t + "layernorm_before." + s);
      dino[d + "attn.proj." + s] = hf.at(t + "attention.output.dense." + s);
      dino[d + "norm2." + s] = hf.at(t + "layernorm_after." + s);
      dino[d + "mlp.fc1." + s] = hf.at(t + "intermediate.dense." + s);
      dino[d + "mlp.fc2." + s] = hf.at(t + "output.dense." + s);
    }
  }
  return dino;
}

void WritePth(const TensorMap& tensors, const fs::path& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : tensors) dict.insert(name, tensor.contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(ViTModelTest, ExpectedWeightsMatchTheBuiltModule) {
  ViTConfig no_bias = ReferenceConfig();
  no_bias.qkv_bias = false;
  for (const ViTConfig& c : {ReferenceConfig(), no_bias}) {
    auto model = ViTModel::Create(c, {});
    ASSERT_TRUE(model.ok()) << model.status();
    const absl::Status match = CheckExpectedMatchesModule(ViTModel::ExpectedWeights(c), (*model)->module());
    EXPECT_TRUE(match.ok()) << match;
  }
}

TEST(ViTModelTest, DinoVitS16HasItsPublishedShape) {
  const ViTConfig c = ViTConfig::DinoVitS16();
  EXPECT_EQ(c.hidden_size, 384);
  EXPECT_EQ(c.num_attention_heads, 6);
  EXPECT_EQ(c.num_positions(), 197);
  EXPECT_EQ(ViTModel::ExpectedWeights(c).NumElements(), 21665664);
}

TEST(ViTModelTest, ReferenceModelGivesTheReferenceOutputs) {
  auto model = LoadViT(core::ReferencePath("dino_vit"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().layer_norm_eps, 1e-6);  // from config.json, not transformers' 1e-12
  auto io = core::SafetensorsFile::Open(core::ReferencePath("cases/dino_io.safetensors"));
  ASSERT_TRUE(io.ok());
  const at::Tensor pixels = *io->Load("pixel_values");
  auto out = (*model)->Forward(pixels);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(torch::allclose(out->cls, *io->Load("cls"), 0, 1e-4));
  EXPECT_TRUE(torch::allclose(out->last_hidden_state, *io->Load("last_hidden_state"), 0, 1e-4));
  (*model)->set_stock_path_for_comparison(true);
  auto stock = (*model)->Forward(pixels);
  ASSERT_TRUE(stock.ok());
  EXPECT_TRUE(torch::allclose(stock->cls, out->cls, 0, 1e-5));
}

TEST(ViTModelTest, OriginalDinoKeysGiveTheSameNetwork) {
  auto hf = core::LoadWeightsFile(core::ReferencePath("dino_vit/model.safetensors"), core::DeviceSpec{});
  ASSERT_TRUE(hf.ok()) << hf.status();
  const ViTConfig config = ReferenceConfig();
  const fs::path pth = TempDir("dino_pth") / "dino_tiny_pretrain.pth";
  WritePth(ToDinoKeys(*hf, config.num_hidden_layers), pth);

  auto from_hf = LoadViT(core::ReferencePath("dino_vit"), {});
  auto from_dino = LoadViT(pth.string(), {}, config);  // no config.json beside it: 32-wide heads are not DINO's 64
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  ASSERT_TRUE(from_dino.ok()) << from_dino.status();
  torch::manual_seed(3);
  const at::Tensor pixels = torch::randn({2, 3, 224, 224});
  auto a = (*from_hf)->Forward(pixels);
  auto b = (*from_dino)->Forward(pixels);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(torch::equal(a->last_hidden_state, b->last_hidden_state));

  // Without a config, the shapes give it (64-wide heads, eps 1e-6).
  auto inferred = ConfigFromDinoWeights(ToDinoKeys(*hf, config.num_hidden_layers), "x.pth");
  EXPECT_THAT(std::string(inferred.status().message()), HasSubstr("num_attention_heads = 0"));
}

TEST(ViTModelTest, DinoVitS16ConfigIsInferredFromItsCheckpointShapes) {
  const ViTConfig s16 = ViTConfig::DinoVitS16();
  TensorMap dino;
  dino["cls_token"] = torch::empty({1, 1, 384});
  dino["pos_embed"] = torch::empty({1, 197, 384});
  dino["patch_embed.proj.weight"] = torch::empty({384, 3, 16, 16});
  dino["blocks.0.attn.qkv.bias"] = torch::empty({3 * 384});
  dino["blocks.0.mlp.fc1.weight"] = torch::empty({1536, 384});
  for (int i = 0; i < 12; ++i) dino[absl::StrCat("blocks.", i, ".norm1.weight")] = torch::empty({384});
  auto c = ConfigFromDinoWeights(dino, "dino_deitsmall16_pretrain.pth");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->hidden_size, s16.hidden_size);
  EXPECT_EQ(c->intermediate_size, s16.intermediate_size);
  EXPECT_EQ(c->num_hidden_layers, s16.num_hidden_layers);
  EXPECT_EQ(c->num_attention_heads, s16.num_attention_heads);
  EXPECT_EQ(c->image_size, 224);
  EXPECT_EQ(c->patch_size, 16);
  EXPECT_TRUE(c->qkv_bias);
  EXPECT_EQ(c->layer_norm_eps, 1e-6);
}

TEST(ViTModelTest, MismatchesAndUnknownKeysAreNamed) {
  const fs::path dir = TempDir("bad_vit");
  fs::copy_file(core::ReferencePath("dino_vit/model.safetensors"), dir / "model.safetensors");
  std::ifstream in(core::ReferencePath("dino_vit/config.json"));
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string from = "\"intermediate_size\": 64";
  ASSERT_NE(config.find(from), std::string::npos);
  config.replace(config.find(from), from.size(), "\"intermediate_size\": 96");
  std::ofstream(dir / "config.json") << config;
  auto model = LoadViT(dir.string(), {});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("encoder.layer.0.intermediate.dense.bias is [64] in the weights but the config gives [96]"));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("intermediate_size"));

  TensorMap dino;
  dino["cls_token"] = torch::zeros({1, 1, 8});
  dino["pos_embed"] = torch::zeros({1, 5, 8});
  dino["blocks.0.attn.relative_bias"] = torch::zeros({1});
  auto converted = DinoToTransformersKeys(dino, "odd.pth");
  EXPECT_THAT(std::string(converted.status().message()),
              HasSubstr("odd.pth: unknown DINO ViT tensor blocks.0.attn.relative_bias"));
}

TEST(ViTModelTest, TransformersPrefixesAndPoolerAreTolerated) {
  auto hf = core::LoadWeightsFile(core::ReferencePath("dino_vit/model.safetensors"), core::DeviceSpec{});
  ASSERT_TRUE(hf.ok());
  std::vector<std::pair<std::string, at::Tensor>> prefixed;
  for (const auto& [name, tensor] : *hf) prefixed.emplace_back("vit." + name, tensor);
  prefixed.emplace_back("vit.pooler.dense.weight", torch::zeros({32, 32}));
  prefixed.emplace_back("vit.pooler.dense.bias", torch::zeros({32}));
  const fs::path dir = TempDir("vit_prefixed");
  ASSERT_TRUE(core::WriteSafetensors((dir / "model.safetensors").string(), prefixed, {}).ok());
  fs::copy_file(core::ReferencePath("dino_vit/config.json"), dir / "config.json");
  auto model = LoadViT(dir.string(), {});
  EXPECT_TRUE(model.ok()) << model.status();
}

}  // namespace
}  // namespace dreamshot::models::vit

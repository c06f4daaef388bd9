// CLIPModel and CLIPVisionModel: upstream names and shapes, the published
// configs' parameter counts, the reference model's features, our encoder
// path against the stock one, and config/weights mismatches named by key.
#include "models/clip/clip_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/component_weights.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "models/load_model.h"
#include "models/module_shapes.h"

namespace dreamshot::models::clip {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

ClipModelConfig TinyConfig() {
  ClipModelConfig c;
  c.text.vocab_size = 100;
  c.text.hidden_size = 8;
  c.text.intermediate_size = 12;
  c.text.num_hidden_layers = 2;
  c.text.num_attention_heads = 2;
  c.text.max_position_embeddings = 10;
  c.vision.hidden_size = 16;
  c.vision.intermediate_size = 24;
  c.vision.num_hidden_layers = 2;
  c.vision.num_attention_heads = 4;
  c.vision.image_size = 32;
  c.vision.patch_size = 8;
  c.projection_dim = 6;
  return c;
}

int64_t ParameterCount(const ExpectedTensors& expected) {
  int64_t n = expected.NumElements();
  for (const auto& [name, t] : expected.tensors()) {
    if (t.optional) n -= t.shape.empty() ? 1 : t.shape[0] * t.shape[1];  // position_ids buffers
  }
  return n;
}

TEST(ClipModelTest, ExpectedWeightsMatchTheBuiltModule) {
  auto model = ClipModel::Create(TinyConfig(), {});
  ASSERT_TRUE(model.ok()) << model.status();
  const ExpectedTensors expected = ClipModel::ExpectedWeights(TinyConfig());
  const absl::Status match = CheckExpectedMatchesModule(expected, (*model)->module());
  EXPECT_TRUE(match.ok()) << match;
  auto vision = ClipVisionModel::Create(TinyConfig().vision, {});
  ASSERT_TRUE(vision.ok());
  EXPECT_TRUE(CheckExpectedMatchesModule(ClipVisionModel::ExpectedWeights(TinyConfig().vision), (*vision)->module())
                  .ok());
}

// openai/clip-vit-base-patch32, -base-patch16 and -large-patch14 as
// transformers counts their parameters.
TEST(ClipModelTest, PublishedShapesHaveThePublishedParameterCounts) {
  EXPECT_EQ(ParameterCount(ClipModel::ExpectedWeights(ClipModelConfig::VitB32())), 151277313);
  EXPECT_EQ(ParameterCount(ClipModel::ExpectedWeights(ClipModelConfig::VitB16())), 149620737);
  EXPECT_EQ(ParameterCount(ClipModel::ExpectedWeights(ClipModelConfig::VitL14())), 427616513);
}

TEST(ClipModelTest, ReferenceModelGivesTheReferenceFeatures) {
  auto model = LoadModelFromFolder<ClipModel>(core::ReferencePath("clip_model"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().projection_dim, 24);
  EXPECT_EQ((*model)->config().vision.patch_size, 32);
  EXPECT_NEAR((*model)->LogitScaleExp(), 100.0, 1e-3);  // logit_scale = ln 100, as trained CLIP models
  auto io = core::SafetensorsFile::Open(core::ReferencePath("cases/clip_io.safetensors"));
  ASSERT_TRUE(io.ok());
  const at::Tensor pixels = *io->Load("pixel_values");
  const at::Tensor ids = *io->Load("input_ids");
  auto image = (*model)->GetImageFeatures(pixels);
  auto text = (*model)->GetTextFeatures(ids);
  ASSERT_TRUE(image.ok() && text.ok());
  EXPECT_TRUE(torch::allclose(*image, *io->Load("image_features"), 0, 1e-5));
  EXPECT_TRUE(torch::allclose(*text, *io->Load("text_features"), 0, 1e-5));
  auto out = (*model)->Forward(ids, pixels);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(torch::allclose(out->image_embeds, *io->Load("image_embeds"), 0, 1e-5));
  EXPECT_TRUE(torch::allclose(out->logits_per_image, *io->Load("logits_per_image"), 0, 1e-3));

  // The stock formulation gives the same numbers up to float rounding.
  (*model)->set_stock_path_for_comparison(true);
  auto stock = (*model)->GetImageFeatures(pixels);
  ASSERT_TRUE(stock.ok());
  EXPECT_TRUE(torch::allclose(*stock, *image, 0, 1e-5));
  EXPECT_FALSE((*model)->GetImageFeatures(pixels.narrow(3, 0, 200)).ok());  // not 224 wide
}

// A copy of the reference model folder whose config.json has `from`
// replaced by `to`.
std::string EditedCopy(const std::string& name, const std::string& from, const std::string& to) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path source = core::ReferencePath("clip_model");
  fs::copy_file(source / "model.safetensors", dir / "model.safetensors");
  std::ifstream in(source / "config.json");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = config.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) config.replace(at, from.size(), to);
  std::ofstream(dir / "config.json") << config;
  return dir.string();
}

// pytorch_model.bin instead of model.safetensors: the same model.
TEST(ClipModelTest, PickledWeightsLoadToTheSameModel) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "clip_bin";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto weights = core::LoadWeightsFile(core::ReferencePath("clip_model/model.safetensors"), core::DeviceSpec{});
  ASSERT_TRUE(weights.ok()) << weights.status();
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : *weights) dict.insert(name, tensor.contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream(dir / "pytorch_model.bin", std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  fs::copy_file(core::ReferencePath("clip_model/config.json"), dir / "config.json");
  auto from_bin = LoadModelFromFolder<ClipModel>(dir.string(), {});
  auto from_safetensors = LoadModelFromFolder<ClipModel>(core::ReferencePath("clip_model"), {});
  ASSERT_TRUE(from_bin.ok()) << from_bin.status();
  ASSERT_TRUE(from_safetensors.ok());
  torch::manual_seed(0);
  const at::Tensor pixels = torch::randn({1, 3, 224, 224});
  EXPECT_TRUE(torch::equal(*(*from_bin)->GetImageFeatures(pixels), *(*from_safetensors)->GetImageFeatures(pixels)));
}

TEST(ClipModelTest, ConfigThatDoesNotFitTheWeightsNamesTensorAndKey) {
  // vision_config's intermediate_size (64) follows text_config's (32) in the file.
  auto model = LoadModelFromFolder<ClipModel>(
      EditedCopy("bad_vision", "\"intermediate_size\": 64", "\"intermediate_size\": 48"), {});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("vision_model.encoder.layers.0.mlp.fc1.bias is [64] in the weights but the config gives [48]"));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("(from vision_config.hidden_size, "
                                                               "vision_config.intermediate_size, "));
  EXPECT_THAT(std::string(model.status().message()), ::testing::Not(HasSubstr("defaults")));

  model = LoadModelFromFolder<ClipModel>(EditedCopy("bad_projection", "\"projection_dim\": 24",
                                                    "\"projection_dim\": 25"), {});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("text_projection.weight is [24, 8]"));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("projection_dim"));

  model = LoadModelFromFolder<ClipModel>(EditedCopy("bad_patch", "\"patch_size\": 32", "\"patch_size\": 16"), {});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("vision_model.embeddings.patch_embedding.weight"));
}

// openai/clip-vit-large-patch14's config.json (transformers 4.16): library
// defaults in text_config / vision_config, the real sizes in the _dict keys.
TEST(ClipModelConfigTest, ConfigDictKeysOverrideTheDefaultsDump) {
  auto json = core::JsonConfig::FromString(R"({"projection_dim": 768,
      "text_config": {"hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8,
                      "num_hidden_layers": 12, "eos_token_id": 2},
      "text_config_dict": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                           "num_hidden_layers": 12},
      "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                        "num_hidden_layers": 12, "patch_size": 32},
      "vision_config_dict": {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16,
                             "num_hidden_layers": 24, "patch_size": 14}})",
                                           "clip-vit-large-patch14/config.json");
  ASSERT_TRUE(json.ok());
  auto config = ClipModelConfig::FromJson(*json);
  ASSERT_TRUE(config.ok()) << config.status();
  const ClipModelConfig l14 = ClipModelConfig::VitL14();
  EXPECT_EQ(config->text.hidden_size, l14.text.hidden_size);
  EXPECT_EQ(config->text.num_attention_heads, l14.text.num_attention_heads);
  EXPECT_EQ(config->text.eos_token_id, 2);  // kept from text_config
  EXPECT_EQ(config->vision.hidden_size, l14.vision.hidden_size);
  EXPECT_EQ(config->vision.num_hidden_layers, l14.vision.num_hidden_layers);
  EXPECT_EQ(config->vision.patch_size, 14);
  EXPECT_EQ(ParameterCount(ClipModel::ExpectedWeights(*config)), 427616513);
  auto vision = ClipVisionConfig::FromJson(*json);
  ASSERT_TRUE(vision.ok());
  EXPECT_EQ(vision->patch_size, 14);
}

TEST(ClipVisionConfigTest, ReadsTheVisionConfigOfACLIPModelFile) {
  auto json = core::JsonConfig::FromFile(core::ReferencePath("clip_model/config.json"));
  ASSERT_TRUE(json.ok());
  auto vision = ClipVisionConfig::FromJson(*json);
  ASSERT_TRUE(vision.ok()) << vision.status();
  EXPECT_EQ(vision->hidden_size, 32);
  EXPECT_EQ(vision->num_positions(), 50);
  auto bad = core::JsonConfig::FromString(R"({"hidden_size": 32, "intermediate_size": 4, "num_hidden_layers": 1,
      "num_attention_heads": 4, "patch_size": 300})", "vision/config.json");
  ASSERT_TRUE(bad.ok());
  EXPECT_THAT(std::string(ClipVisionConfig::FromJson(*bad).status().message()),
              HasSubstr("vision/config.json: patch_size = 300 is outside [1, 224]"));
}

}  // namespace
}  // namespace dreamshot::models::clip

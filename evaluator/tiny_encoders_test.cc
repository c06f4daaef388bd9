// The tiny random CLIP and DINO folders load back through the real loaders,
// embed images and prompts, say they are random, are reproducible from
// their seed and never overwrite a folder.
#include "evaluator/tiny_encoders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "evaluator/image_preprocess.h"
#include "models/clip/clip_model.h"
#include "models/clip/tokenizer.h"
#include "models/load_model.h"
#include "models/vit/vit_loading.h"

namespace dreamshot::evaluator {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const fs::path path = fs::path(std::getenv("TEST_TMPDIR")) / name;
  fs::remove_all(path);
  return path.string();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Image8 Gradient(int64_t width, int64_t height) {
  Image8 image{width, height, 3, {}};
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      image.pixels.insert(image.pixels.end(), {static_cast<uint8_t>(x), static_cast<uint8_t>(y), 90});
    }
  }
  return image;
}

TEST(TinyEncodersTest, ClipLoadsTokenizesAndEmbeds) {
  const std::string dir = TempDir("tiny_clip");
  ASSERT_TRUE(WriteTinyClipModel(dir, 5).ok());
  EXPECT_THAT(ReadFile(fs::path(dir) / "README.md"), HasSubstr("RANDOM"));
  for (const char* name : {"config.json", "model.safetensors", "preprocessor_config.json", "vocab.json", "merges.txt",
                           "tokenizer_config.json", "special_tokens_map.json"}) {
    EXPECT_TRUE(fs::exists(fs::path(dir) / name)) << name;
  }
  auto model = models::LoadModelFromFolder<models::clip::ClipModel>(dir, {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_NEAR((*model)->LogitScaleExp(), 1 / 0.07, 0.01);
  auto tokenizer = models::clip::ClipTokenizer::FromFolder(dir);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const models::clip::TokenizedBatch batch = tokenizer->Tokenize({"a close shot of a man", "a long shot of a city"});
  const at::Tensor ids = torch::tensor(batch.input_ids, torch::kLong).view({batch.batch_size, batch.seq_len});
  auto pixels = PreprocessBatch({Gradient(320, 240), Gradient(240, 320)}, ClipPreprocessing());
  ASSERT_TRUE(pixels.ok()) << pixels.status();
  auto out = (*model)->Forward(ids, *pixels);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->logits_per_image.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::isfinite(out->logits_per_image).all().item<bool>());
  EXPECT_FALSE(torch::allclose(out->text_embeds[0], out->text_embeds[1]));  // the prompts differ, so do their embeddings
}

TEST(TinyEncodersTest, DinoLoadsAndEmbeds) {
  const std::string dir = TempDir("tiny_dino");
  ASSERT_TRUE(WriteTinyDinoVit(dir, 5).ok());
  EXPECT_THAT(ReadFile(fs::path(dir) / "README.md"), HasSubstr("RANDOM"));
  auto model = models::vit::LoadViT(dir, {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->config().patch_size, 16);
  EXPECT_EQ((*model)->config().layer_norm_eps, 1e-6);
  auto pixels = PreprocessBatch({Gradient(300, 200)}, DinoPreprocessing());
  ASSERT_TRUE(pixels.ok());
  auto out = (*model)->Forward(*pixels);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->cls.sizes(), (std::vector<int64_t>{1, 32}));
  EXPECT_TRUE(torch::isfinite(out->cls).all().item<bool>());
}

TEST(TinyEncodersTest, SameSeedSameBytesAndNoOverwrite) {
  const std::string a = TempDir("dino_a"), b = TempDir("dino_b"), c = TempDir("dino_c");
  ASSERT_TRUE(WriteTinyDinoVit(a, 9).ok());
  ASSERT_TRUE(WriteTinyDinoVit(b, 9).ok());
  ASSERT_TRUE(WriteTinyDinoVit(c, 10).ok());
  EXPECT_EQ(ReadFile(fs::path(a) / "model.safetensors"), ReadFile(fs::path(b) / "model.safetensors"));
  EXPECT_NE(ReadFile(fs::path(a) / "model.safetensors"), ReadFile(fs::path(c) / "model.safetensors"));
  const absl::Status again = WriteTinyDinoVit(a, 9);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("exists and is not empty"));
}

}  // namespace
}  // namespace dreamshot::evaluator

// The random tiny model: it loads and generates through the real pipeline,
// is byte-for-byte reproducible from its seed, refuses to overwrite, has a
// working tokenizer and the reference model's config keys.
#include "diffusion/pipeline/tiny_model_writer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/model_source.h"
#include "core/testdata_paths.h"
#include "diffusion/pipeline/text_to_image.h"
#include "models/clip/tokenizer.h"

namespace dreamshot::diffusion {
namespace {

namespace fs = std::filesystem;

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

nlohmann::json ReadJson(const fs::path& path) { return nlohmann::json::parse(ReadFile(path)); }

// Relative path → bytes of every file under `root`.
std::map<std::string, std::string> ReadTree(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = ReadFile(entry.path());
  }
  return files;
}

// Written once for the whole suite (seed 7), timed.
class TinyModelWriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("tiny_seed7"));
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = WriteTinyStableDiffusion(*dir_, 7);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(status.ok()) << status;
    std::cout << "WriteTinyStableDiffusion: " << seconds << " s\n";
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string* dir_;
};
std::string* TinyModelWriterTest::dir_ = nullptr;

TEST_F(TinyModelWriterTest, LoadsAndGeneratesAFiniteNonConstantImage) {
  auto source = core::ModelSource::Open(*dir_);
  ASSERT_TRUE(source.ok()) << source.status();
  auto models = StableDiffusionModels::Load(*source, core::DeviceSpec{});
  ASSERT_TRUE(models.ok()) << models.status();
  TextToImageRequest r;
  r.prompt = "a close shot of a man in the street";
  r.width = r.height = 64;
  r.steps = 2;  // the model's own scheduler (PNDM)
  r.seeds = {3};
  auto result = GenerateImages(*models, r);
  ASSERT_TRUE(result.ok()) << result.status();
  const at::Tensor& images = result->images;
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{1, 3, 64, 64}));
  EXPECT_TRUE(torch::isfinite(images).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(result->latents).all().item<bool>());
  const double spread = (images.max() - images.min()).item<double>();
  std::cout << "image min " << images.min().item<float>() << " max " << images.max().item<float>() << " std "
            << images.std().item<float>() << "\n";
  EXPECT_GT(spread, 0.05);
  EXPECT_GT(images.std().item<double>(), 1e-3);
  // The prompt reaches the image: the text encoder is not degenerate.
  r.prompt = "a long shot of a dog on the beach";
  auto other = GenerateImages(*models, r);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->images.equal(images));
}

TEST_F(TinyModelWriterTest, TheSameSeedGivesByteIdenticalFilesAnotherSeedOtherWeights) {
  const std::string again = TempDir("tiny_seed7_again");
  ASSERT_TRUE(WriteTinyStableDiffusion(again, 7).ok());
  const auto a = ReadTree(*dir_), b = ReadTree(again);
  std::set<std::string> names;
  for (const auto& [name, bytes] : a) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"README.md", "model_index.json", "scheduler/scheduler_config.json",
                                          "text_encoder/config.json", "text_encoder/model.safetensors",
                                          "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
                                          "tokenizer/tokenizer_config.json", "tokenizer/vocab.json",
                                          "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                                          "vae/config.json", "vae/diffusion_pytorch_model.safetensors"}));
  EXPECT_TRUE(a == b) << "the same seed wrote different files";

  const std::string other = TempDir("tiny_seed8");
  ASSERT_TRUE(WriteTinyStableDiffusion(other, 8).ok());
  const auto c = ReadTree(other);
  for (const char* weights : {"unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
                              "text_encoder/model.safetensors"}) {
    EXPECT_NE(a.at(weights), c.at(weights)) << weights;
    EXPECT_EQ(a.at(weights).size(), c.at(weights).size()) << weights;  // same architecture
  }
  EXPECT_EQ(a.at("unet/config.json"), c.at("unet/config.json"));
  EXPECT_EQ(a.at("tokenizer/vocab.json"), c.at("tokenizer/vocab.json"));
}

TEST_F(TinyModelWriterTest, RefusesANonEmptyFolderAndFillsAnEmptyOne) {
  const absl::Status again = WriteTinyStableDiffusion(*dir_, 7);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_NE(again.message().find(*dir_), std::string::npos) << again;

  const std::string empty = TempDir("empty_then_filled");
  fs::create_directories(empty);
  ASSERT_TRUE(WriteTinyStableDiffusion(empty, 1).ok());
  EXPECT_TRUE(fs::exists(fs::path(empty) / "unet/config.json"));

  const std::string nested = TempDir("parent") + "/child/model";
  ASSERT_TRUE(WriteTinyStableDiffusion(nested, 1).ok());
  // No temporary folder is left next to the model.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(fs::path(nested).parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(TinyModelWriterTest, TheTokenizerCompressesPromptsAndKeepsCLIPsSpecialIds) {
  auto tokenizer = models::clip::ClipTokenizer::FromFolder(*dir_ + "/tokenizer");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const nlohmann::json vocab = ReadJson(*dir_ + "/tokenizer/vocab.json");
  const int64_t bos = vocab.at("<|startoftext|>"), eos = vocab.at("<|endoftext|>");
  const int64_t size = static_cast<int64_t>(vocab.size());
  EXPECT_EQ(bos, size - 2);
  EXPECT_EQ(eos, size - 1);
  EXPECT_EQ(tokenizer->vocab_size(), size);
  EXPECT_EQ(tokenizer->bos_id(), bos);
  EXPECT_EQ(tokenizer->eos_id(), eos);
  EXPECT_EQ(tokenizer->pad_id(), eos);
  // 512 byte symbols + one token per merge + 2 specials, as CLIP's.
  EXPECT_EQ(static_cast<int64_t>(tokenizer->bpe().num_merges()), size - 514);
  std::cout << "vocab size " << size << ", merges " << size - 514 << "\n";

  const nlohmann::json text_config = ReadJson(*dir_ + "/text_encoder/config.json");
  EXPECT_EQ(text_config.at("vocab_size").get<int64_t>(), size);
  EXPECT_EQ(text_config.at("bos_token_id").get<int64_t>(), bos);
  EXPECT_EQ(text_config.at("eos_token_id").get<int64_t>(), eos);

  const std::string prompt = "a close shot of a man";
  const std::vector<int64_t> ids = tokenizer->Encode(prompt);
  EXPECT_LT(ids.size(), prompt.size());
  EXPECT_EQ(ids.size(), 6u) << "every word of this prompt is in the embedded word list";
  EXPECT_EQ(tokenizer->Decode(ids).value(), prompt);
  // One token per listed word.
  for (const auto& [p, words] : std::vector<std::pair<std::string, size_t>>{
           {"medium shot", 2}, {"long shot", 2}, {"a photo of a woman", 5}, {"dog", 1}, {"street", 1}}) {
    EXPECT_EQ(tokenizer->Encode(p).size(), words) << p;
  }
  // Words outside the list still tokenize (byte fallback), and round-trip.
  EXPECT_EQ(tokenizer->Decode(tokenizer->Encode("zebra xylophone")).value(), "zebra xylophone");

  const models::clip::TokenizedBatch batch = tokenizer->Tokenize({prompt});
  ASSERT_EQ(batch.seq_len, 77);
  EXPECT_EQ(batch.ids_row(0)[0], bos);
  EXPECT_EQ(batch.ids_row(0)[ids.size() + 1], eos);
  EXPECT_EQ(batch.ids_row(0)[76], eos);  // padding is eos, as CLIP's

  const std::string merges = ReadFile(*dir_ + "/tokenizer/merges.txt");
  EXPECT_EQ(merges.rfind("#version: 0.2\n", 0), 0u);
}

TEST_F(TinyModelWriterTest, ConfigsHaveTheReferenceModelsKeysAndSayTheyAreRandom) {
  const nlohmann::json index = ReadJson(*dir_ + "/model_index.json");
  EXPECT_EQ(index.at("_dreamshot_note").get<std::string>(), "random weights for demos and tests; not a trained model");
  EXPECT_NE(ReadFile(*dir_ + "/README.md").find("random"), std::string::npos);

  const std::string reference = core::ReferencePath("tiny_sd");
  if (reference.empty() || !fs::exists(reference + "/model_index.json")) {
    GTEST_SKIP() << "no reference tiny_sd folder; key sets not compared";
  }
  auto keys = [](const nlohmann::json& object) {
    std::set<std::string> out;
    for (const auto& item : object.items()) out.insert(item.key());
    return out;
  };
  for (const char* file :
       {"model_index.json", "scheduler/scheduler_config.json", "text_encoder/config.json", "unet/config.json",
        "vae/config.json", "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json"}) {
    nlohmann::json ours = ReadJson(*dir_ + "/" + file);
    ours.erase("_dreamshot_note");
    const nlohmann::json theirs = ReadJson(reference + "/" + file);
    EXPECT_EQ(keys(ours), keys(theirs)) << file;
    // The same architecture: everything but the vocabulary is the reference's.
    if (std::string(file) != "text_encoder/config.json") {
      EXPECT_EQ(ours, theirs) << file;
    } else {
      for (const char* key : {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"}) {
        EXPECT_EQ(ours.at(key), theirs.at(key)) << key;
      }
    }
  }
}

}  // namespace
}  // namespace dreamshot::diffusion

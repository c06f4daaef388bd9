#include "models/lora/lora_file.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "core/safetensors.h"
#include "core/sha256.h"
#include "core/testdata_paths.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_test_models.h"

namespace dreamshot::models::lora {
namespace {

constexpr const char* kReferenceFiles[] = {"pytorch_lora_weights.safetensors",
                                           "pytorch_lora_weights_diffusers_legacy.safetensors",
                                           "lora_kohya.safetensors"};

class LoraFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(core::ReferenceDir().empty()) << "set DREAMSHOT_REFERENCE_DIR";
    auto unet = LoadReferenceUNet();
    ASSERT_TRUE(unet.ok()) << unet.status();
    unet_ = std::move(*unet);
    auto text = LoadReferenceTextEncoder();
    ASSERT_TRUE(text.ok()) << text.status();
    text_ = std::move(*text);
    auto unet_index = AdaptableModules::Index(unet_->module(), LoraComponent::kUNet);
    ASSERT_TRUE(unet_index.ok()) << unet_index.status();
    unet_index_.emplace(std::move(*unet_index));
    auto text_index = AdaptableModules::Index(text_->module(), LoraComponent::kTextEncoder);
    ASSERT_TRUE(text_index.ok()) << text_index.status();
    text_index_.emplace(std::move(*text_index));
  }

  LoraTargets targets() const { return {&*unet_index_, &*text_index_}; }

  LoraFile Read(const std::string& path) {
    auto file = ReadLoraFile(path, targets());
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? *file : LoraFile{};
  }

  std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

  // A LoRA of the given rank/alpha on `module` fitting its weight.
  LoraModuleWeights RandomFor(const AdaptableModules& index, const std::string& module, int64_t rank,
                              std::optional<double> alpha) {
    at::Tensor weight = index.Weight(module);
    LoraModuleWeights w;
    if (weight.dim() == 2) {
      w.down = torch::randn({rank, weight.size(1)});
      w.up = torch::randn({weight.size(0), rank});
    } else {
      w.down = torch::randn({rank, weight.size(1), weight.size(2), weight.size(3)});
      w.up = torch::randn({weight.size(0), rank, 1, 1});
    }
    w.alpha = alpha;
    return w;
  }

  std::unique_ptr<unet::UNet2DConditionModel> unet_;
  std::unique_ptr<clip::ClipTextModel> text_;
  std::optional<AdaptableModules> unet_index_, text_index_;
};

std::set<std::string> KeysOf(const std::string& path) {
  auto file = core::SafetensorsFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  auto names = file->names();
  return {names.begin(), names.end()};
}

void ExpectSameDeltas(const LoraModuleMap& a, const LoraModuleMap& b, double atol) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [module, w] : a) {
    auto it = b.find(module);
    ASSERT_NE(it, b.end()) << module;
    EXPECT_TRUE(torch::allclose(WeightDelta(w), WeightDelta(it->second), 0, atol)) << module;
  }
}

void ExpectIdenticalTensors(const LoraModuleMap& a, const LoraModuleMap& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [module, w] : a) {
    auto it = b.find(module);
    ASSERT_NE(it, b.end()) << module;
    EXPECT_TRUE(torch::equal(w.down, it->second.down)) << module;
    EXPECT_TRUE(torch::equal(w.up, it->second.up)) << module;
    EXPECT_EQ(w.alpha_or_rank(), it->second.alpha_or_rank()) << module;  // no alpha means alpha == rank
  }
}

TEST_F(LoraFileTest, ReadsTheThreeReferenceFilesAsTheSameAdapter) {
  const LoraFile peft = Read(ReferenceLoraPath(kReferenceFiles[0]));
  const LoraFile legacy = Read(ReferenceLoraPath(kReferenceFiles[1]));
  const LoraFile kohya = Read(ReferenceLoraPath(kReferenceFiles[2]));
  EXPECT_EQ(peft.format, LoraFileFormat::kPeft);
  EXPECT_EQ(legacy.format, LoraFileFormat::kDiffusersLegacy);
  EXPECT_EQ(kohya.format, LoraFileFormat::kKohya);
  // 16 attention layers x (to_q, to_k, to_v, to_out.0).
  EXPECT_EQ(peft.weights.unet.size(), 48u);
  EXPECT_TRUE(peft.weights.text_encoder.empty());
  ASSERT_TRUE(peft.weights.unet.count("mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0"));
  for (const auto& [module, w] : kohya.weights.unet) {
    EXPECT_EQ(w.rank(), 4) << module;
    EXPECT_EQ(w.alpha, 4.0) << module;
  }
  for (const auto& [module, w] : peft.weights.unet) EXPECT_FALSE(w.alpha.has_value()) << module;
  EXPECT_EQ(kohya.weights.metadata.at("ss_network_dim"), "4");
  EXPECT_EQ(kohya.weights.metadata.at("ss_network_alpha"), "4.0");
  ExpectIdenticalTensors(peft.weights.unet, legacy.weights.unet);
  ExpectSameDeltas(peft.weights.unet, kohya.weights.unet, 0);
}

TEST_F(LoraFileTest, KohyaNamesResolveForEveryModuleKind) {
  std::vector<std::string> all_paths;
  for (const AdaptableModules* index : {&*unet_index_, &*text_index_}) {
    for (const std::string& path : index->paths()) {
      const std::string key = LoraKey(LoraFileFormat::kKohya, index->component(), path, LoraTensorRole::kDown);
      std::optional<ParsedLoraKey> parsed = ParseLoraKey(key);
      ASSERT_TRUE(parsed) << key;
      EXPECT_EQ(index->kohya_names().Resolve(parsed->module), path) << key;
      all_paths.push_back(path);
    }
  }
  for (const char* kind : {"to_q", "to_k", "to_v", "to_out.0", "proj", "net.2", "proj_in", "proj_out", "conv1",
                           "conv2", "conv_shortcut", "time_emb_proj", "conv", "linear_1", "q_proj", "k_proj",
                           "v_proj", "out_proj", "fc1", "fc2"}) {
    const std::string suffix = std::string(".") + kind;
    EXPECT_TRUE(std::any_of(all_paths.begin(), all_paths.end(), [&](const std::string& p) {
      return p.size() > suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0;
    })) << kind;
  }
}

TEST_F(LoraFileTest, WritesKeysExactlyAsTheReferenceFiles) {
  const LoraFile peft = Read(ReferenceLoraPath(kReferenceFiles[0]));
  const LoraFileFormat formats[] = {LoraFileFormat::kPeft, LoraFileFormat::kDiffusersLegacy,
                                    LoraFileFormat::kKohya};
  for (int i = 0; i < 3; ++i) {
    const std::string out = TempPath(std::string("written_") + FormatName(formats[i]) + ".safetensors");
    ASSERT_TRUE(WriteLoraFile(out, peft.weights, formats[i]).ok());
    EXPECT_EQ(KeysOf(out), KeysOf(ReferenceLoraPath(kReferenceFiles[i]))) << FormatName(formats[i]);
  }
}

TEST_F(LoraFileTest, RoundTripInEachFormatKeepsTensorsAndMetadata) {
  for (const char* file : kReferenceFiles) {
    LoraFile original = Read(ReferenceLoraPath(file));
    original.weights.metadata["ss_training_comment"] = "kept";
    const std::string out = TempPath(std::string("roundtrip_") + file);
    ASSERT_TRUE(WriteLoraFile(out, original.weights, original.format).ok()) << file;
    const LoraFile again = Read(out);
    EXPECT_EQ(again.format, original.format);
    ExpectIdenticalTensors(original.weights.unet, again.weights.unet);
    EXPECT_EQ(again.weights.metadata.at("ss_training_comment"), "kept");
    for (const auto& [key, value] : original.weights.metadata) EXPECT_EQ(again.weights.metadata.at(key), value);
  }
}

TEST_F(LoraFileTest, ConversionsPreserveTheWeightDelta) {
  // Mixed ranks and alphas on every module kind, UNet and text encoder.
  LoraWeights weights;
  int i = 0;
  for (const std::string& path : unet_index_->paths()) {
    if (i++ % 3 == 0) weights.unet[path] = RandomFor(*unet_index_, path, 2 + i % 3, 1.0 + i % 5);
  }
  for (const std::string& path : text_index_->paths()) weights.text_encoder[path] = RandomFor(*text_index_, path, 4, 8.0);
  weights.metadata["ss_network_dim"] = "stale";  // owned by kohya: rewritten there, dropped elsewhere
  weights.metadata["user_note"] = "kept";

  LoraWeights current = weights;
  for (LoraFileFormat format : {LoraFileFormat::kKohya, LoraFileFormat::kPeft, LoraFileFormat::kDiffusersLegacy,
                                LoraFileFormat::kKohya}) {
    const std::string out = TempPath(std::string("convert_") + FormatName(format) + ".safetensors");
    ASSERT_TRUE(WriteLoraFile(out, current, format).ok()) << FormatName(format);
    current = Read(out).weights;
    ExpectSameDeltas(weights.unet, current.unet, 1e-5);
    ExpectSameDeltas(weights.text_encoder, current.text_encoder, 1e-5);
    EXPECT_EQ(current.metadata.at("user_note"), "kept");
    if (format == LoraFileFormat::kKohya) {
      EXPECT_EQ(current.metadata.at("ss_network_module"), "networks.lora");
      EXPECT_NE(current.metadata.at("ss_network_dim"), "stale");
      EXPECT_TRUE(current.metadata.count("ss_network_args"));  // conv modules present
      EXPECT_EQ(current.metadata.count("lora_adapter_metadata"), 0u);
    } else {
      EXPECT_EQ(current.metadata.at("format"), "pt");
      EXPECT_EQ(current.metadata.count("ss_network_dim"), 0u);
      EXPECT_EQ(current.metadata.count("lora_adapter_metadata"), format == LoraFileFormat::kPeft ? 1u : 0u);
    }
  }
  // The kohya file after the round trip keeps every module's own alpha.
  for (const auto& [module, w] : current.text_encoder) EXPECT_EQ(w.alpha_or_rank(), w.rank()) << module;
}

TEST_F(LoraFileTest, KohyaWritesAlphaAndTextEncoderNames) {
  LoraWeights weights;
  const std::string q = "text_model.encoder.layers.0.self_attn.q_proj";
  weights.text_encoder[q] = RandomFor(*text_index_, q, 4, 2.0);
  const std::string out = TempPath("te_kohya.safetensors");
  ASSERT_TRUE(WriteLoraFile(out, weights, LoraFileFormat::kKohya).ok());
  auto file = core::SafetensorsFile::Open(out);
  ASSERT_TRUE(file.ok());
  auto alpha = file->Load("lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha");
  ASSERT_TRUE(alpha.ok()) << alpha.status();
  EXPECT_EQ(alpha->dim(), 0);
  EXPECT_EQ(alpha->item<float>(), 2.0f);
  EXPECT_EQ(file->metadata().at("ss_network_dim"), "4");
  EXPECT_EQ(file->metadata().at("ss_network_alpha"), "2.0");
  const LoraFile again = Read(out);
  EXPECT_EQ(again.weights.text_encoder.at(q).alpha, 2.0);
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(LoraFileTest, KohyaFilesCarrySdScriptsHashesOfTheirTrainingMetadata) {
  LoraWeights weights;
  for (const std::string& path : unet_index_->paths()) {
    if (unet_index_->Weight(path).dim() == 2) weights.unet[path] = RandomFor(*unet_index_, path, 256, 1.0);
  }
  weights.metadata = {{"ss_training_comment", "close shots"}, {"user_note", "a"}, {"sshs_model_hash", "stale"}};
  const std::string out = TempPath("hashed_kohya.safetensors");
  ASSERT_TRUE(WriteLoraFile(out, weights, LoraFileFormat::kKohya).ok());
  const std::string bytes = FileBytes(out);
  ASSERT_GT(bytes.size(), size_t{0x110000}) << "the legacy hash's window must lie inside the file";
  auto file = core::SafetensorsFile::Open(out);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::map<std::string, std::string> metadata = file->metadata();

  // The data after the header does not depend on the metadata.
  uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  EXPECT_EQ(metadata.at("sshs_model_hash"), core::Sha256Hex(absl::string_view(bytes).substr(8 + header)));

  // The legacy hash is over the file with only the ss_* entries, as
  // sd-scripts saves it before adding the hashes: write that file apart.
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const std::string& name : file->names()) tensors.emplace_back(name, *file->Load(name));
  std::map<std::string, std::string> training;
  for (const auto& [key, value] : metadata) {
    if (key.rfind("ss_", 0) == 0) training[key] = value;
  }
  const std::string training_only = TempPath("hashed_kohya_ss_only.safetensors");
  ASSERT_TRUE(core::WriteSafetensors(training_only, tensors, training).ok());
  const std::string window = FileBytes(training_only).substr(0x100000, 0x10000);
  EXPECT_EQ(metadata.at("sshs_legacy_hash"), core::Sha256Hex(window).substr(0, 8));

  // Other metadata leaves both hashes alone; training metadata moves the legacy one.
  LoraWeights renoted = Read(out).weights;
  renoted.metadata["user_note"] = "a longer note";
  ASSERT_TRUE(WriteLoraFile(out, renoted, LoraFileFormat::kKohya).ok());
  auto again = core::SafetensorsFile::Open(out);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->metadata().at("sshs_model_hash"), metadata.at("sshs_model_hash"));
  EXPECT_EQ(again->metadata().at("sshs_legacy_hash"), metadata.at("sshs_legacy_hash"));
  renoted.metadata["ss_training_comment"] = "close shots, longer";
  ASSERT_TRUE(WriteLoraFile(out, renoted, LoraFileFormat::kKohya).ok());
  again = core::SafetensorsFile::Open(out);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->metadata().at("sshs_model_hash"), metadata.at("sshs_model_hash"));
  EXPECT_NE(again->metadata().at("sshs_legacy_hash"), metadata.at("sshs_legacy_hash"));

  // They describe a kohya file only.
  const std::string peft = TempPath("hashed_peft.safetensors");
  ASSERT_TRUE(WriteLoraFile(peft, renoted, LoraFileFormat::kPeft).ok());
  auto peft_file = core::SafetensorsFile::Open(peft);
  ASSERT_TRUE(peft_file.ok());
  EXPECT_EQ(peft_file->metadata().count("sshs_model_hash"), 0u);
  EXPECT_EQ(peft_file->metadata().count("sshs_legacy_hash"), 0u);
}

TEST_F(LoraFileTest, PeftMetadataAlphaIsHonoured) {
  const std::string module = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";
  const LoraModuleWeights w = RandomFor(*unet_index_, module, 4, std::nullopt);
  const std::string out = TempPath("peft_alpha.safetensors");
  ASSERT_TRUE(core::WriteSafetensors(out, {{"unet." + module + ".lora_A.weight", w.down},
                                           {"unet." + module + ".lora_B.weight", w.up}},
                                     {{"format", "pt"}, {"lora_adapter_metadata", R"({"unet.lora_alpha": 8, "unet.r": 4})"}})
                  .ok());
  EXPECT_EQ(Read(out).weights.unet.at(module).alpha, 8.0);
}

// Writes `tensors` and returns ReadLoraFile's error message.
std::string ReadError(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const LoraTargets& targets) {
  EXPECT_TRUE(core::WriteSafetensors(path, tensors).ok());
  auto file = ReadLoraFile(path, targets);
  EXPECT_FALSE(file.ok());
  return file.ok() ? "" : std::string(file.status().message());
}

TEST_F(LoraFileTest, ErrorsNameTheBadKeys) {
  const std::string to_q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";
  const LoraModuleWeights w = RandomFor(*unet_index_, to_q, 4, std::nullopt);
  const std::string path = TempPath("bad.safetensors");

  std::string message = ReadError(path, {{"unet.down_blocks.9.attn1.to_q.lora_A.weight", w.down},
                                         {"unet.down_blocks.9.attn1.to_q.lora_B.weight", w.up}}, targets());
  EXPECT_NE(message.find("unet.down_blocks.9.attn1.to_q.lora_A.weight"), std::string::npos) << message;

  message = ReadError(path, {{"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_x.lora_down.weight",
                              w.down}}, targets());
  EXPECT_NE(message.find("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_x.lora_down.weight"),
            std::string::npos) << message;

  message = ReadError(path, {{"unet." + to_q + ".lora_A.weight", w.down}}, targets());
  EXPECT_NE(message.find("unet." + to_q + ".lora_B.weight"), std::string::npos) << message;

  message = ReadError(path, {{"unet." + to_q + ".lora_A.weight", w.down},
                             {"unet." + to_q + ".lora_B.weight", torch::randn({7, 4})}}, targets());
  EXPECT_NE(message.find(to_q), std::string::npos) << message;
  EXPECT_NE(message.find("[7, 32]"), std::string::npos) << message;

  message = ReadError(path, {{"unet." + to_q + ".weight", w.down}}, targets());
  EXPECT_NE(message.find("unet." + to_q + ".weight"), std::string::npos) << message;

  message = ReadError(path, {{"unet." + to_q + ".lora_A.weight", w.down},
                             {"unet." + to_q + ".lora_B.weight", w.up}}, LoraTargets{nullptr, &*text_index_});
  EXPECT_NE(message.find("unet." + to_q + ".lora_A.weight"), std::string::npos) << message;

  message = ReadError(path, {{"unet." + to_q + ".lora_A.weight", w.down},
                             {"lora_unet_" + std::string("down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q") +
                                  ".lora_up.weight", w.up}}, targets());
  EXPECT_NE(message.find("mixes LoRA formats"), std::string::npos) << message;
}

}  // namespace
}  // namespace dreamshot::models::lora

#include "models/clip/text_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/component_weights.h"
#include "core/ldm_test_names.h"
#include "core/model_source.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "models/load_model.h"
#include "models/module_shapes.h"

namespace dreamshot::models::clip {
namespace {

using ::testing::HasSubstr;

ClipTextConfig TinyConfig() {
  ClipTextConfig c;
  c.vocab_size = 100;
  c.hidden_size = 8;
  c.intermediate_size = 12;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.max_position_embeddings = 10;
  c.eos_token_id = 99;
  return c;
}

TEST(ClipTextModelTest, ParameterNamesAreTheUpstreamKeys) {
  auto model = ClipTextModel::Create(TinyConfig(), {});
  ASSERT_TRUE(model.ok());
  std::vector<std::string> names;
  for (const auto& p : (*model)->module().named_parameters()) names.push_back(p.key());
  EXPECT_THAT(names, ::testing::Contains("text_model.encoder.layers.1.self_attn.q_proj.weight"));
  EXPECT_THAT(names, ::testing::Contains("text_model.final_layer_norm.bias"));
  EXPECT_THAT(names, ::testing::Contains("text_model.embeddings.token_embedding.weight"));
}

TEST(ClipTextModelTest, ExpectedWeightsMatchTheBuiltModule) {
  ClipTextConfig other = TinyConfig();
  other.num_hidden_layers = 3;
  other.intermediate_size = 20;
  other.max_position_embeddings = 16;
  for (const ClipTextConfig& c : {TinyConfig(), other}) {
    auto model = ClipTextModel::Create(c, {});
    ASSERT_TRUE(model.ok()) << model.status();
    const ExpectedTensors expected = ClipTextModel::ExpectedWeights(c);
    EXPECT_TRUE(CheckExpectedMatchesModule(expected, (*model)->module()).ok())
        << CheckExpectedMatchesModule(expected, (*model)->module());
  }
}

TEST(ClipTextModelTest, ConfigRangesNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"hidden_size": 1000000000, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1})",
       "hidden_size = 1000000000 is outside [1, 16384]"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 100000, "num_attention_heads": 1})",
       "num_hidden_layers = 100000 is outside [1, 64]"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
          "vocab_size": 0})", "vocab_size = 0 is outside"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
          "max_position_embeddings": 10000000})", "max_position_embeddings = 10000000 is outside"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
          "layer_norm_eps": -1})", "layer_norm_eps = -1 must be in (0, 1]"},
      {R"({"intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1})",
       "hidden_size is required but missing"},
  };
  for (const auto& [text, expected] : cases) {
    auto json = core::JsonConfig::FromString(text, "text_encoder/config.json");
    ASSERT_TRUE(json.ok());
    const absl::Status s = ClipTextConfig::FromJson(*json).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(s.message()), HasSubstr("text_encoder/config.json: "));
    EXPECT_THAT(std::string(s.message()), HasSubstr(expected));
  }
}

// Pickled weights have no header: their shapes are compared with the
// config once unpickled, still before the module is built.
TEST(ClipTextModelTest, PickledWeightsAreCheckedAgainstTheConfigAfterUnpickling) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "bin_text_encoder";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto reference = core::LoadComponentWeights(core::ReferencePath("tiny_sd/text_encoder"), core::DeviceSpec{});
  ASSERT_TRUE(reference.ok()) << reference.status();
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : *reference) dict.insert(name, tensor);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream(dir / "pytorch_model.bin", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::ifstream config_in(core::ReferencePath("tiny_sd/text_encoder/config.json"));
  std::string config((std::istreambuf_iterator<char>(config_in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "config.json") << config;
  ASSERT_TRUE(LoadModelFromFolder<ClipTextModel>(dir.string(), {}).ok());

  const std::string from = "\"intermediate_size\": 37";
  const size_t at = config.find(from);
  ASSERT_NE(at, std::string::npos);
  config.replace(at, from.size(), "\"intermediate_size\": 64");
  std::ofstream(dir / "config.json", std::ios::trunc) << config;
  auto model = LoadModelFromFolder<ClipTextModel>(dir.string(), {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("config.json does not fit the weights in "));
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("pytorch_model.bin"));
  EXPECT_THAT(std::string(model.status().message()),
              HasSubstr("text_model.encoder.layers.0.mlp.fc1.bias is [37] in the weights but the config gives [64]"));
}

TEST(ClipTextModelTest, LoadReportsMissingUnexpectedAndMisshapenTensors) {
  auto model = ClipTextModel::Create(TinyConfig(), {});
  ASSERT_TRUE(model.ok());
  TensorMap tensors;
  for (const auto& p : (*model)->module().named_parameters()) tensors[p.key()] = p.value().detach().clone();
  tensors.erase("text_model.final_layer_norm.weight");
  tensors["text_model.extra.weight"] = torch::zeros({1});
  tensors["text_model.encoder.layers.0.mlp.fc1.weight"] = torch::zeros({3, 3});
  absl::Status s = (*model)->LoadWeights(tensors, "weights.safetensors");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("weights.safetensors does not fit the model"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("1 missing: text_model.final_layer_norm.weight"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("1 unexpected: text_model.extra.weight"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("fc1.weight [3, 3] vs expected [12, 8]"));
}

TEST(ClipTextModelTest, ForwardValidatesInputsAndPoolsAtEos) {
  auto model = ClipTextModel::Create(TinyConfig(), {});
  ASSERT_TRUE(model.ok());
  EXPECT_EQ((*model)->Forward(torch::zeros({1, 11}, torch::kLong)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Forward(torch::zeros({1, 4})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Forward(torch::full({1, 4}, 100, torch::kLong)).status().code(),
            absl::StatusCode::kInvalidArgument);
  torch::Tensor ids = torch::tensor({98, 5, 99, 99, 99}, torch::kLong).view({1, 5});
  auto out = (*model)->Forward(ids, /*output_hidden_states=*/true);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->hidden_states.size(), 3u);  // embeddings + 2 layers
  EXPECT_TRUE(torch::equal(out->pooler_output[0], out->last_hidden_state[0][2]));  // first eos
  // Causal: the first position does not see later tokens.
  torch::Tensor other = ids.clone();
  other.index_put_({0, 1}, 7);
  auto changed = (*model)->Forward(other);
  EXPECT_TRUE(torch::allclose(changed->last_hidden_state[0][0], out->last_hidden_state[0][0]));
  EXPECT_FALSE(torch::allclose(changed->last_hidden_state[0][1], out->last_hidden_state[0][1]));
}

// Forward records a graph only when the caller's grad mode is on: that is
// what lets text-encoder LoRA train through it, and what inference callers
// turn off with NoGradGuard.
TEST(ClipTextModelTest, ForwardFollowsTheCallersGradMode) {
  auto model = ClipTextModel::Create(TinyConfig(), {});
  ASSERT_TRUE(model.ok());
  // Defined weights (Create leaves them as allocated) and a loss that is
  // not a plain sum: the sum of a LayerNorm's output has no gradient when
  // its scale is the same for every feature.
  auto init = at::detail::createCPUGenerator(5);
  for (at::Tensor& p : (*model)->module().parameters()) {
    torch::NoGradGuard no_grad;
    p.uniform_(-0.5, 0.5, init);
    p.set_requires_grad(false);
  }
  torch::nn::Module& root = (*model)->module();
  at::Tensor q = root.named_parameters()["text_model.encoder.layers.0.self_attn.q_proj.weight"];
  q.set_requires_grad(true);
  const torch::Tensor ids = torch::tensor({98, 5, 99}, torch::kLong).view({1, 3});
  at::Tensor frozen;
  {
    torch::NoGradGuard no_grad;
    auto out = (*model)->Forward(ids);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_FALSE(out->last_hidden_state.requires_grad());
    frozen = out->last_hidden_state;
  }
  auto out = (*model)->Forward(ids);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(out->last_hidden_state.requires_grad());
  EXPECT_TRUE(torch::equal(out->last_hidden_state.detach(), frozen));
  const at::Tensor weights = torch::rand(out->last_hidden_state.sizes(), init);
  (out->last_hidden_state * weights).sum().backward();
  ASSERT_TRUE(q.grad().defined());
  EXPECT_GT(q.grad().abs().sum().item<double>(), 0.0);
}

TEST(ClipTextModelTest, ConfigFromUpstreamJson) {
  auto json = core::JsonConfig::FromFile(core::ReferencePath("tiny_sd/text_encoder/config.json"));
  ASSERT_TRUE(json.ok()) << json.status();
  auto config = ClipTextConfig::FromJson(*json);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->hidden_size, 16);
  EXPECT_EQ(config->num_hidden_layers, 5);
  EXPECT_EQ(config->eos_token_id, 49407);
  auto bad = core::JsonConfig::FromString(R"({"hidden_size": 10, "intermediate_size": 4,
      "num_hidden_layers": 1, "num_attention_heads": 3})", "bad.json");
  EXPECT_THAT(std::string(ClipTextConfig::FromJson(*bad).status().message()), HasSubstr("not divisible"));
  auto act = core::JsonConfig::FromString(R"({"hidden_size": 4, "intermediate_size": 4,
      "num_hidden_layers": 1, "num_attention_heads": 2, "hidden_act": "swish"})", "act.json");
  EXPECT_THAT(std::string(ClipTextConfig::FromJson(*act).status().message()), HasSubstr("unsupported hidden_act"));
}

TEST(ClipTextModelTest, HalfPrecisionRunsOnCpuModelInFloat16Weights) {
  core::DeviceSpec spec;
  spec.dtype = c10::kBFloat16;
  auto model = ClipTextModel::Create(TinyConfig(), spec);
  ASSERT_TRUE(model.ok());
  auto out = (*model)->Forward(torch::tensor({98, 5, 99}, torch::kLong).view({1, 3}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->last_hidden_state.scalar_type(), torch::kBFloat16);
}

}  // namespace
}  // namespace dreamshot::models::clip

namespace dreamshot::models::clip {
namespace {

// The text encoder of a single-file LDM checkpoint gives exactly the
// transformers outputs of the reference.
TEST(ClipTextModelTest, SingleFileCheckpointMatchesReferenceOutputs) {
  const std::string folder = core::ReferencePath("tiny_sd/text_encoder");
  auto diffusers = core::LoadComponentWeights(folder, core::DeviceSpec{});
  ASSERT_TRUE(diffusers.ok()) << diffusers.status();
  std::vector<std::pair<std::string, at::Tensor>> ldm;
  for (auto& [name, tensor] : core::testing::ToLdmTensors("text_encoder", *diffusers, 0, 0)) {
    ldm.emplace_back(name, tensor);
  }
  const std::string file = std::string(::testing::TempDir()) + "/sd-single-file.safetensors";
  ASSERT_TRUE(core::WriteSafetensors(file, ldm).ok());

  auto source = core::ModelSource::Open(file);
  ASSERT_TRUE(source.ok()) << source.status();
  auto weights = source->LoadComponent("text_encoder", {});
  ASSERT_TRUE(weights.ok()) << weights.status();
  auto json = core::JsonConfig::FromFile(folder + "/config.json");
  auto model = ClipTextModel::Create(*ClipTextConfig::FromJson(*json), {});
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE((*model)->LoadWeights(*weights, file).ok());

  auto io = core::SafetensorsFile::Open(core::ReferencePath("cases/text_encoder_io.safetensors"));
  ASSERT_TRUE(io.ok());
  auto out = (*model)->Forward(*io->Load("input_ids"), true);
  ASSERT_TRUE(out.ok()) << out.status();
  const at::Tensor expected = *io->Load("last_hidden_state");
  const double max_err = (out->last_hidden_state - expected).abs().max().item<double>();
  EXPECT_LE(max_err, 1e-4) << "max abs error " << max_err;
  const at::Tensor penultimate = *io->Load("hidden_state_penultimate");
  EXPECT_LE((out->hidden_states[out->hidden_states.size() - 2] - penultimate).abs().max().item<double>(), 1e-4);
}

}  // namespace
}  // namespace dreamshot::models::clip

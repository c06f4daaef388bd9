#include "models/unet/unet_2d_condition.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/component_weights.h"
#include "core/json_config.h"
#include "core/model_source.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "models/module_shapes.h"

namespace dreamshot::models::unet {
namespace {

// Max abs error and where; fails unless |a - e| <= atol + rtol·|e| everywhere.
void ExpectClose(const at::Tensor& actual, const at::Tensor& expected, const std::string& what,
                 double atol = 1e-4, double rtol = 1e-4) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  at::Tensor a = actual.to(torch::kDouble), e = expected.to(torch::kDouble);
  at::Tensor err = (a - e).abs();
  const int64_t flat = err.flatten().argmax().item<int64_t>();
  const double max_err = err.flatten()[flat].item<double>();
  std::vector<int64_t> index;
  int64_t rest = flat;
  for (int64_t d = err.dim() - 1; d >= 0; --d) {
    index.insert(index.begin(), rest % err.size(d));
    rest /= err.size(d);
  }
  std::string where = absl::StrCat("[", absl::StrJoin(index, ", "), "]");
  std::cout << what << ": max abs error " << max_err << " at " << where << "\n";
  const bool ok = (err <= atol + rtol * e.abs()).all().item<bool>();
  EXPECT_TRUE(ok) << what << ": max abs error " << max_err << " at " << where << " (got "
                  << a.flatten()[flat].item<double>() << ", expected " << e.flatten()[flat].item<double>() << ")";
}


std::unique_ptr<UNet2DConditionModel> LoadFolder(const std::string& folder) {
  auto json = core::JsonConfig::FromFile(folder + "/config.json");
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = UNetConfig::FromJson(*json);
  EXPECT_TRUE(config.ok()) << config.status();
  auto model = UNet2DConditionModel::Create(*config, core::DeviceSpec{});
  EXPECT_TRUE(model.ok()) << model.status();
  auto weights = core::LoadComponentWeights(folder, core::DeviceSpec{});
  EXPECT_TRUE(weights.ok()) << weights.status();
  absl::Status loaded = (*model)->LoadWeights(*weights, folder);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return std::move(*model);
}

void RunParity(UNet2DConditionModel& model, const std::string& io_file) {
  auto io = core::SafetensorsFile::Open(core::ReferencePath(io_file));
  ASSERT_TRUE(io.ok()) << io.status();
  auto load = [&](const std::string& name) {
    auto t = io->Load(name);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : at::Tensor();
  };
  torch::NoGradGuard no_grad;
  const at::Tensor sample = load("sample");
  const at::Tensor ehs = load("encoder_hidden_states");
  for (const std::string call : {"t999", "t37", "t_batch", "tfloat"}) {
    auto out = model.Forward(sample, load("timestep_" + call), ehs);
    ASSERT_TRUE(out.ok()) << out.status();
    ExpectClose(*out, load("out_" + call), io_file + " out_" + call);
  }
  auto emb = model.TimeEmbedding(torch::tensor({999, 37, 10, 500}, torch::kLong));
  ASSERT_TRUE(emb.ok()) << emb.status();
  ExpectClose(*emb, load("debug_time_embedding_t_999_37_10_500"), io_file + " time embedding");
}

TEST(UNetTest, ParitySd15ViaModelSource) {
  auto source = core::ModelSource::Open(core::ReferencePath("tiny_sd"));
  ASSERT_TRUE(source.ok()) << source.status();
  auto json = source->ComponentConfig("unet");
  ASSERT_TRUE(json.ok()) << json.status();
  auto config = UNetConfig::FromJson(*json);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->attention_head_dim, std::vector<int64_t>({8, 8}));
  auto model = UNet2DConditionModel::Create(*config, core::DeviceSpec{});
  ASSERT_TRUE(model.ok()) << model.status();
  auto weights = source->LoadComponent("unet", core::DeviceSpec{});
  ASSERT_TRUE(weights.ok()) << weights.status();
  ASSERT_TRUE((*model)->LoadWeights(*weights, "tiny_sd/unet").ok());
  RunParity(**model, "cases/unet_sd15_io.safetensors");
}

TEST(UNetTest, ParitySd2LinearProjectionHeadList) {
  auto model = LoadFolder(core::ReferencePath("unet_sd2"));
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(model->config().use_linear_projection);
  EXPECT_EQ(model->config().attention_head_dim, std::vector<int64_t>({2, 4}));
  RunParity(*model, "cases/unet_sd2_io.safetensors");
}

UNetConfig TinyConfig() {
  UNetConfig c;
  c.block_out_channels = {32, 64};
  c.down_block_types = {"CrossAttnDownBlock2D", "DownBlock2D"};
  c.up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D"};
  c.layers_per_block = {1, 1};
  c.transformer_layers_per_block = {1, 1};
  c.attention_head_dim = {2, 4};
  c.only_cross_attention = {false, false};
  c.cross_attention_dim = 16;
  return c;
}

TEST(UNetTest, NonSquareOddAndBatchedShapes) {
  torch::manual_seed(0);
  auto model = UNet2DConditionModel::Create(TinyConfig(), core::DeviceSpec{});
  ASSERT_TRUE(model.ok()) << model.status();
  torch::NoGradGuard no_grad;
  for (const auto& shape : std::vector<std::vector<int64_t>>{{3, 4, 16, 24}, {1, 4, 15, 9}, {2, 4, 8, 32}}) {
    at::Tensor sample = torch::randn(shape);
    at::Tensor ehs = torch::randn({shape[0], 77, 16});
    auto out = (*model)->Forward(sample, torch::tensor(500, torch::kLong), ehs);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->sizes(), sample.sizes());
    EXPECT_TRUE(torch::isfinite(*out).all().item<bool>());
  }
  // Per-sample timesteps: each batch row equals the row run alone.
  at::Tensor sample = torch::randn({2, 4, 16, 24});
  at::Tensor ehs = torch::randn({2, 77, 16});
  auto both = (*model)->Forward(sample, torch::tensor({10, 900}, torch::kLong), ehs);
  auto second = (*model)->Forward(sample.narrow(0, 1, 1), torch::tensor(900.0f), ehs.narrow(0, 1, 1));
  ASSERT_TRUE(both.ok() && second.ok());
  EXPECT_LT((both->narrow(0, 1, 1) - *second).abs().max().item<double>(), 1e-5);
  // Wrong shapes are errors, not crashes.
  EXPECT_FALSE((*model)->Forward(sample, torch::tensor({1, 2, 3}), ehs).ok());
  EXPECT_FALSE((*model)->Forward(sample, torch::tensor(1), torch::randn({2, 77, 8})).ok());
}

// The diffusers key set of SD 1.5, written out from the naming pattern.
std::set<std::string> ExpectedSd15Keys() {
  std::set<std::string> keys;
  auto wb = [&](const std::string& m) {
    keys.insert(m + ".weight");
    keys.insert(m + ".bias");
  };
  auto resnet = [&](const std::string& p, bool shortcut) {
    for (const char* m : {"norm1", "conv1", "time_emb_proj", "norm2", "conv2"}) wb(p + "." + m);
    if (shortcut) wb(p + ".conv_shortcut");
  };
  auto transformer = [&](const std::string& p) {
    wb(p + ".norm");
    wb(p + ".proj_in");
    wb(p + ".proj_out");
    const std::string b = p + ".transformer_blocks.0";
    for (const char* m : {"norm1", "norm2", "norm3", "ff.net.0.proj", "ff.net.2", "attn1.to_out.0", "attn2.to_out.0"}) {
      wb(b + "." + m);
    }
    for (const char* a : {"attn1", "attn2"}) {
      for (const char* m : {"to_q", "to_k", "to_v"}) keys.insert(b + "." + a + "." + m + ".weight");
    }
  };
  for (const char* m : {"conv_in", "time_embedding.linear_1", "time_embedding.linear_2", "conv_norm_out", "conv_out"}) {
    wb(m);
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 2; ++j) {
      const std::string p = absl::StrCat("down_blocks.", i, ".");
      resnet(p + "resnets." + std::to_string(j), j == 0 && (i == 1 || i == 2));
      if (i < 3) transformer(p + "attentions." + std::to_string(j));
    }
    if (i < 3) wb(absl::StrCat("down_blocks.", i, ".downsamplers.0.conv"));
  }
  resnet("mid_block.resnets.0", false);
  resnet("mid_block.resnets.1", false);
  transformer("mid_block.attentions.0");
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) {
      const std::string p = absl::StrCat("up_blocks.", i, ".");
      resnet(p + "resnets." + std::to_string(j), true);
      if (i > 0) transformer(p + "attentions." + std::to_string(j));
    }
    if (i < 3) wb(absl::StrCat("up_blocks.", i, ".upsamplers.0.conv"));
  }
  return keys;
}

TEST(UNetTest, FullSizeSd15ParameterCountAndKeys) {
  auto model = UNet2DConditionModel::Create(UNetConfig{}, core::DeviceSpec{});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->NumParameters(), 859520964);
  // What the config check computes without building agrees with the module.
  const ExpectedTensors sd15 = UNet2DConditionModel::ExpectedWeights(UNetConfig{});
  EXPECT_TRUE(CheckExpectedMatchesModule(sd15, (*model)->module()).ok())
      << CheckExpectedMatchesModule(sd15, (*model)->module());
  EXPECT_EQ(sd15.NumElements(), 859520964);
  std::set<std::string> actual;
  for (const auto& item : (*model)->module().named_parameters()) actual.insert(item.key());
  for (const auto& item : (*model)->module().named_buffers()) actual.insert(item.key());
  const std::set<std::string> expected = ExpectedSd15Keys();
  for (const auto& k : expected) EXPECT_TRUE(actual.count(k)) << "missing " << k;
  for (const auto& k : actual) EXPECT_TRUE(expected.count(k)) << "unexpected " << k;
  EXPECT_EQ(actual.size(), 686u);
}

// ExpectedWeights mirrors the module for every option that changes a shape
// or a name: channels, layer counts, block types, linear projections,
// only_cross_attention, kernels, time_embedding_dim.
TEST(UNetTest, ExpectedWeightsMatchTheBuiltModule) {
  std::vector<UNetConfig> configs = {TinyConfig()};
  UNetConfig c = TinyConfig();
  c.use_linear_projection = true;
  c.only_cross_attention = {true, false};
  c.layers_per_block = {2, 1};
  c.transformer_layers_per_block = {2, 1};
  configs.push_back(c);
  c = TinyConfig();
  c.block_out_channels = {32, 32, 64};
  c.down_block_types = {"DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"};
  c.up_block_types = {"CrossAttnUpBlock2D", "UpBlock2D", "CrossAttnUpBlock2D"};
  c.layers_per_block = {1, 2, 1};
  c.transformer_layers_per_block = {1, 1, 3};
  c.attention_head_dim = {1, 2, 8};
  c.only_cross_attention = {false, true, false};
  c.in_channels = 9;
  c.out_channels = 8;
  c.conv_in_kernel = 5;
  c.conv_out_kernel = 1;
  c.time_embedding_dim = 48;
  c.norm_num_groups = 16;
  configs.push_back(c);
  for (size_t i = 0; i < configs.size(); ++i) {
    auto model = UNet2DConditionModel::Create(configs[i], core::DeviceSpec{});
    ASSERT_TRUE(model.ok()) << model.status();
    const ExpectedTensors expected = UNet2DConditionModel::ExpectedWeights(configs[i]);
    EXPECT_TRUE(CheckExpectedMatchesModule(expected, (*model)->module()).ok())
        << "config " << i << ": " << CheckExpectedMatchesModule(expected, (*model)->module());
    EXPECT_EQ(expected.NumElements(), (*model)->NumParameters()) << "config " << i;
  }
}

// Out-of-range values are refused by key before anything is sized from them.
TEST(UNetTest, ConfigRangesNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"block_out_channels": [1000000000, 1000000000], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
          "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"]})",
       "block_out_channels[0] = 1000000000 is outside [1, 16384]"},
      {R"({"block_out_channels": [1e9, 1e9]})", "block_out_channels must be a list of integers"},
      {R"({"block_out_channels": [32, 32, 32, 32, 32, 32, 32, 32, 32]})", "block_out_channels has 9 entries"},
      {R"({"layers_per_block": 1000})", "layers_per_block[0] = 1000 is outside [1, 16]"},
      {R"({"transformer_layers_per_block": [1, 1, 1, 100000]})", "transformer_layers_per_block[3] = 100000"},
      {R"({"cross_attention_dim": 0})", "cross_attention_dim = 0 is outside"},
      {R"({"in_channels": 100000})", "in_channels = 100000 is outside [1, 64]"},
      {R"({"conv_in_kernel": 101})", "conv_in_kernel = 101 is outside [1, 15]"},
      {R"({"norm_eps": 0})", "norm_eps = 0 must be in (0, 1]"},
      {R"({"time_embedding_dim": -5})", "time_embedding_dim = -5 is outside"},
      {R"({"attention_head_dim": 7})", "attention_head_dim[0] = 7"},
      {R"({"down_block_types": ["CrossAttnDownBlock2D"]})", "down_block_types has 1 entries but block_out_channels has 4"},
  };
  for (const auto& [text, expected] : cases) {
    auto json = core::JsonConfig::FromString(text, "unet/config.json");
    ASSERT_TRUE(json.ok()) << json.status();
    auto config = UNetConfig::FromJson(*json);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find("unet/config.json: "), std::string::npos) << config.status();
    EXPECT_NE(config.status().message().find(expected), std::string::npos) << config.status();
  }
  // Create refuses what FromJson would, for configs made in code.
  UNetConfig huge;
  huge.block_out_channels = {1000000000, 1000000000, 1000000000, 1000000000};
  auto model = UNet2DConditionModel::Create(huge, core::DeviceSpec{});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("block_out_channels[0]"), std::string::npos) << model.status();
}

TEST(UNetTest, UnsupportedConfigIsError) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"class_embed_type": "timestep"})", "class_embed_type"},
      {R"({"addition_embed_type": "text_time"})", "addition_embed_type"},
      {R"({"resnet_time_scale_shift": "scale_shift"})", "resnet_time_scale_shift"},
      {R"({"num_attention_heads": 8})", "num_attention_heads"},
      {R"({"time_embedding_type": "fourier"})", "time_embedding_type"},
      {R"({"down_block_types": ["SimpleCrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]})",
       "SimpleCrossAttnDownBlock2D"},
      {R"({"mid_block_type": null})", "mid_block_type"},
      {R"({"attention_head_dim": [8, 8]})", "attention_head_dim"},
  };
  for (const auto& [text, key] : cases) {
    auto json = core::JsonConfig::FromString(text, "inline config");
    ASSERT_TRUE(json.ok()) << json.status();
    auto config = UNetConfig::FromJson(*json);
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
    EXPECT_NE(config.status().message().find(key), std::string::npos) << config.status();
  }
  auto defaults = UNetConfig::FromJson(*core::JsonConfig::FromString("{}", "empty"));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->block_out_channels, std::vector<int64_t>({320, 640, 1280, 1280}));
}

// only_cross_attention: attn1 attends to the text states (its key/value
// projections take cross_attention_dim inputs) in the blocks that ask for it,
// a list mirrored onto the up blocks; diffusers' UNetMidBlock2DCrossAttn
// never does.
TEST(UNetTest, OnlyCrossAttentionPerBlockAndNeverInTheMidBlock) {
  auto key_inputs = [](UNet2DConditionModel& unet, const std::string& attn1) {
    const torch::Tensor* w = unet.module().named_parameters().find(attn1 + ".to_k.weight");
    return w == nullptr ? int64_t{-1} : w->size(1);
  };
  for (const char* text : {R"({"only_cross_attention": true})", R"({"only_cross_attention": [true, false]})"}) {
    std::string json = std::string(text);
    json.insert(1, R"("block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
      "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1,
      "attention_head_dim": [2, 4], "cross_attention_dim": 16, "norm_num_groups": 8, )");
    auto config = UNetConfig::FromJson(*core::JsonConfig::FromString(json, "inline config"));
    ASSERT_TRUE(config.ok()) << config.status();
    auto unet = UNet2DConditionModel::Create(*config, {});
    ASSERT_TRUE(unet.ok()) << unet.status();
    const bool list = std::string(text).find('[') != std::string::npos;
    EXPECT_EQ(key_inputs(**unet, "down_blocks.0.attentions.0.transformer_blocks.0.attn1"), 16) << text;
    EXPECT_EQ(key_inputs(**unet, "down_blocks.1.attentions.0.transformer_blocks.0.attn1"), list ? 64 : 16) << text;
    EXPECT_EQ(key_inputs(**unet, "up_blocks.1.attentions.0.transformer_blocks.0.attn1"), 16) << text;
    EXPECT_EQ(key_inputs(**unet, "up_blocks.0.attentions.0.transformer_blocks.0.attn1"), list ? 64 : 16) << text;
    EXPECT_EQ(key_inputs(**unet, "mid_block.attentions.0.transformer_blocks.0.attn1"), 64) << text;
  }
  auto bad = UNetConfig::FromJson(*core::JsonConfig::FromString(R"({"only_cross_attention": [1, 0, 0, 0]})", "x"));
  EXPECT_FALSE(bad.ok());
}

// Gradients with checkpointing equal those without, for inputs and for a
// subset of trainable parameters (the LoRA-style case: activations need no grad).
TEST(UNetTest, GradientCheckpointingMatchesPlainBackward) {
  torch::manual_seed(0);
  auto model = UNet2DConditionModel::Create(TinyConfig(), core::DeviceSpec{});
  ASSERT_TRUE(model.ok()) << model.status();
  at::Tensor sample = torch::randn({2, 4, 8, 8});
  at::Tensor ehs = torch::randn({2, 77, 16});
  at::Tensor t = torch::tensor({10, 700}, torch::kLong);
  auto& module = (*model)->module();
  for (const bool only_some : {false, true}) {
    for (auto& item : module.named_parameters()) {
      item.value().set_requires_grad(!only_some || item.key().find("to_q") != std::string::npos);
    }
    auto run = [&](bool checkpointing) {
      (*model)->SetGradientCheckpointing(checkpointing);
      module.zero_grad();
      at::Tensor context = ehs.clone().requires_grad_(!only_some);
      auto out = (*model)->Forward(sample, t, context);
      EXPECT_TRUE(out.ok()) << out.status();
      out->pow(2).mean().backward();
      std::map<std::string, at::Tensor> grads;
      for (const auto& item : module.named_parameters()) {
        if (item.value().grad().defined()) grads[item.key()] = item.value().grad().clone();
      }
      if (!only_some) grads["<encoder_hidden_states>"] = context.grad().clone();
      return grads;
    };
    auto plain = run(false);
    auto checkpointed = run(true);
    ASSERT_FALSE(plain.empty());
    ASSERT_EQ(plain.size(), checkpointed.size()) << "only_some=" << only_some;
    for (const auto& [name, g] : plain) {
      ASSERT_TRUE(checkpointed.count(name)) << name;
      EXPECT_TRUE(torch::allclose(checkpointed[name], g, 1e-5, 1e-6)) << name;
    }
  }
  (*model)->SetGradientCheckpointing(false);
}

}  // namespace
}  // namespace dreamshot::models::unet

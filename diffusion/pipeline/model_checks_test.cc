// The checks of a model's configs against each other, its weights' headers
// and a request's sampler and steps, on copies of the tiny model with one
// config edited; and the load refusing the same configs before it builds.
#include "diffusion/pipeline/model_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/model_source.h"
#include "core/safetensors.h"
#include "diffusion/pipeline/stable_diffusion_models.h"
#include "diffusion/pipeline/tiny_model_writer.h"

namespace dreamshot::diffusion {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ModelChecksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new std::string((fs::path(std::getenv("TEST_TMPDIR")) / "tiny_pristine").string());
    fs::remove_all(*pristine_);
    ASSERT_TRUE(WriteTinyStableDiffusion(*pristine_, 3).ok());
  }
  static void TearDownTestSuite() { delete pristine_; }

  // A fresh copy of the tiny model to edit.
  std::string Copy() {
    const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir);
    fs::copy(*pristine_, dir, fs::copy_options::recursive);
    return dir.string();
  }

  // Sets (or, with a null value, replaces the whole file by) keys of a config.
  static void Edit(const std::string& file, const nlohmann::json& changes, bool replace = false) {
    nlohmann::json config;
    if (!replace) {
      std::ifstream in(file);
      config = nlohmann::json::parse(in);
    }
    for (const auto& [key, value] : changes.items()) config[key] = value;
    std::ofstream(file, std::ios::trunc) << (replace ? changes.dump() : config.dump(2));
  }

  static absl::Status Check(const std::string& dir, const std::string& scheduler = "ddim", int64_t steps = 3,
                            int64_t clip_skip = 0, int64_t size = 64) {
    return CheckModelForRequest(dir, "", ModelRequest{SchedulerChoice{scheduler}, steps, clip_skip, size, size});
  }

  static absl::Status Load(const std::string& dir) {
    auto source = core::ModelSource::Open(dir);
    if (!source.ok()) return source.status();
    return StableDiffusionModels::Load(*source, core::DeviceSpec{}).status();
  }

  static std::string* pristine_;
};
std::string* ModelChecksTest::pristine_ = nullptr;

TEST_F(ModelChecksTest, TheTinyModelPasses) {
  EXPECT_TRUE(Check(*pristine_).ok()) << Check(*pristine_);
  EXPECT_TRUE(Check(*pristine_, "", 2).ok()) << Check(*pristine_, "", 2);  // the config's PNDM
  EXPECT_TRUE(Check(*pristine_, "dpmpp_2m", 1, 4).ok());
}

TEST_F(ModelChecksTest, PndmWithOneStepIsRefused) {
  for (const std::string& name : {std::string(""), std::string("pndm")}) {
    const absl::Status s = Check(*pristine_, name, 1);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("PNDM: steps must be in [2, 1000], got 1")) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("scheduler_config.json")) << s;
  }
}

TEST_F(ModelChecksTest, SizesMustFitTheVaeDownscaleFactor) {
  EXPECT_TRUE(Check(*pristine_, "ddim", 3, 0, 8).ok());  // the tiny VAE halves: any multiple of 8 fits
  // A 5-block VAE (config and weights) downscales by 16.
  const std::string dir = Copy();
  models::vae::VaeConfig config;
  config.block_out_channels = {32, 32, 32, 32, 32};
  config.layers_per_block = 1;
  auto vae = models::vae::AutoencoderKL::Create(config, core::DeviceSpec{});
  ASSERT_TRUE(vae.ok()) << vae.status();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : (*vae)->module().named_parameters()) tensors.emplace_back(p.key(), p.value());
  ASSERT_TRUE(core::WriteSafetensors(dir + "/vae/diffusion_pytorch_model.safetensors", tensors).ok());
  Edit(dir + "/vae/config.json", {{"block_out_channels", config.block_out_channels},
                                  {"down_block_types", std::vector<std::string>(5, "DownEncoderBlock2D")},
                                  {"up_block_types", std::vector<std::string>(5, "UpDecoderBlock2D")}});
  EXPECT_TRUE(Check(dir, "ddim", 3, 0, 32).ok()) << Check(dir, "ddim", 3, 0, 32);
  const absl::Status s = Check(dir, "ddim", 3, 0, 24);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("width and height must be multiples of 16 for this VAE (5 blocks), got 24×24"));
}

TEST_F(ModelChecksTest, ClipSkipBeyondTheTextEncoderIsRefused) {
  const absl::Status s = Check(*pristine_, "ddim", 3, 5);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("clip_skip must be in [0, 4]"));
}

// `{}` is a valid diffusers UNet config (every key has a default: SD 1.5's
// UNet); against the tiny weights it is refused from the header, naming the
// tensor and the defaulted keys, by the request check and by the load.
TEST_F(ModelChecksTest, EmptyUNetConfigIsRefusedFromTheWeightsHeader) {
  const std::string dir = Copy();
  Edit(dir + "/unet/config.json", nlohmann::json::object(), /*replace=*/true);
  for (const absl::Status& s : {Check(dir), Load(dir)}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    const std::string m(s.message());
    EXPECT_THAT(m, HasSubstr("unet/config.json does not fit the weights in"));
    EXPECT_THAT(m, HasSubstr("diffusion_pytorch_model.safetensors"));
    EXPECT_THAT(m, HasSubstr("conv_in.bias is [32] in the weights but the config gives [320]"));
    EXPECT_THAT(m, HasSubstr("the config implies 859520964 parameters"));
    EXPECT_THAT(m, HasSubstr("the config leaves these to their defaults: "));
    EXPECT_THAT(m, HasSubstr("block_out_channels, conv_in_kernel"));
  }
}

TEST_F(ModelChecksTest, ShapesThatDisagreeWithTheWeightsNameTheTensor) {
  // An SD 2-style option on SD 1-style weights: linear projections.
  const std::string dir = Copy();
  Edit(dir + "/unet/config.json", {{"use_linear_projection", true}});
  for (const absl::Status& s : {Check(dir), Load(dir)}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("down_blocks.0.attentions.0.proj_in.weight is [32, 32, 1, 1] in "
                                                    "the weights but the config gives [32, 32] (from "));
    EXPECT_THAT(std::string(s.message()), HasSubstr("use_linear_projection)"));
  }

  const std::string cross = Copy();
  Edit(cross + "/unet/config.json", {{"cross_attention_dim", 32}});
  for (const absl::Status& s : {Check(cross), Load(cross)}) {
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("attn2.to_k.weight is [32, 16] in the weights but the config gives [32, 32] (from "));
    EXPECT_THAT(std::string(s.message()), HasSubstr("cross_attention_dim)"));
  }

  const std::string layers = Copy();
  Edit(layers + "/text_encoder/config.json", {{"num_hidden_layers", 6}});
  for (const absl::Status& s : {Check(layers), Load(layers)}) {
    EXPECT_THAT(std::string(s.message()), HasSubstr("text_encoder/config.json does not fit"));
    EXPECT_THAT(std::string(s.message()), HasSubstr("e.g. text_model.encoder.layers.5."));
  }
}

TEST_F(ModelChecksTest, HugeValuesAreRefusedByRange) {
  struct Case {
    std::string file;
    nlohmann::json changes;
    std::string expected;
  };
  const Case cases[] = {
      {"unet/config.json", {{"block_out_channels", {1000000000, 1000000000}}}, "block_out_channels[0] = 1000000000 is outside [1, 16384]"},
      {"unet/config.json", nlohmann::json::parse(R"({"block_out_channels": [1e9, 1e9]})"), "block_out_channels must be a list of integers"},
      {"unet/config.json", {{"layers_per_block", 100000}}, "layers_per_block[0] = 100000 is outside [1, 16]"},
      {"unet/config.json", {{"attention_head_dim", 3}}, "attention_head_dim[0] = 3"},
      {"unet/config.json", {{"norm_eps", -1}}, "norm_eps = -1 must be in (0, 1]"},
      {"vae/config.json", {{"latent_channels", 1000000}}, "latent_channels = 1000000 is outside [1, 64]"},
      {"vae/config.json", {{"block_out_channels", {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192}}}, "block_out_channels has 9 entries, expected 1 to 8"},
      {"text_encoder/config.json", {{"vocab_size", 1000000000000}}, "vocab_size = 1000000000000 is outside [1, 1000000]"},
      {"text_encoder/config.json", {{"num_attention_heads", 0}}, "num_attention_heads = 0 is outside"},
      {"scheduler/scheduler_config.json", {{"num_train_timesteps", 1000000000000}}, "num_train_timesteps = 1000000000000 is outside [2, 100000]"},
      {"scheduler/scheduler_config.json", nlohmann::json::parse(R"({"num_train_timesteps": 1e12})"), "num_train_timesteps must be an integer"},
      {"scheduler/scheduler_config.json", {{"beta_end", 1.5}}, "beta_end = 1.5 must be in (0, 1)"},
      {"scheduler/scheduler_config.json", {{"steps_offset", -3}}, "steps_offset = -3 is outside [0, 999]"},
      {"scheduler/scheduler_config.json", {{"beta_schedule", "cubic"}}, "unsupported beta_schedule \"cubic\""},
  };
  for (const Case& c : cases) {
    const std::string dir = Copy();
    Edit(dir + "/" + c.file, c.changes);
    const absl::Status s = Check(dir);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.file << " " << c.changes << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.file)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.expected)) << s;
  }
}

TEST_F(ModelChecksTest, NetworksThatDoNotFitTogetherAreRefused) {
  models::clip::ClipTextConfig text;
  models::unet::UNetConfig unet;
  models::vae::VaeConfig vae;
  EXPECT_TRUE(CheckComponentsAgree(text, unet, vae, "m").ok());
  text.hidden_size = 1024;
  EXPECT_THAT(std::string(CheckComponentsAgree(text, unet, vae, "m").message()),
              HasSubstr("text_encoder hidden_size (1024) differs from unet cross_attention_dim (768)"));
  text.hidden_size = 768;
  vae.latent_channels = 16;
  EXPECT_THAT(std::string(CheckComponentsAgree(text, unet, vae, "m").message()),
              HasSubstr("vae latent_channels (16) differs from unet in_channels/out_channels (4/4)"));
  vae.latent_channels = 4;
  text.max_position_embeddings = 16;
  EXPECT_THAT(std::string(CheckComponentsAgree(text, unet, vae, "m").message()),
              HasSubstr("max_position_embeddings (16) is below the 77 prompt tokens"));
}

}  // namespace
}  // namespace dreamshot::diffusion

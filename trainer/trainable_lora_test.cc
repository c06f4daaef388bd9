// Trainable adapters on the tiny reference UNet: what gets attached and how
// it starts, that only the adapters learn, that the loss of a DreamBooth
// step falls on a fixed batch, and bad options named.
#include "trainer/trainable_lora.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/testdata_paths.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/load_model.h"
#include "models/unet/unet_2d_condition.h"
#include "trainer/dreambooth_step.h"

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;
using models::unet::UNet2DConditionModel;

class TrainableLoraTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto unet = models::LoadModelFromFolder<UNet2DConditionModel>(core::ReferencePath("tiny_sd/unet"),
                                                                  core::DeviceSpec{});
    ASSERT_TRUE(unet.ok()) << unet.status();
    unet_ = std::move(*unet);
    FreezeParameters(unet_->module());
    auto modules = models::lora::AdaptableModules::Index(unet_->module(), models::lora::LoraComponent::kUNet);
    ASSERT_TRUE(modules.ok()) << modules.status();
    modules_ = std::make_unique<models::lora::AdaptableModules>(std::move(*modules));
  }

  DreamBoothBatch Batch() {
    torch::manual_seed(7);
    DreamBoothBatch b;
    b.latents = torch::randn({2, 4, 8, 8});
    b.noise = torch::randn({2, 4, 8, 8});
    b.timesteps = torch::tensor({500, 300}, torch::kLong);
    b.encoder_hidden_states = torch::randn({2, 77, unet_->config().cross_attention_dim});
    return b;
  }

  std::unique_ptr<UNet2DConditionModel> unet_;
  std::unique_ptr<models::lora::AdaptableModules> modules_;
};

TEST_F(TrainableLoraTest, AttachesToTheAttentionProjectionsAndStartsAsTheBaseModel) {
  const DreamBoothBatch batch = Batch();
  torch::NoGradGuard no_grad;
  auto before = unet_->Forward(batch.latents, batch.timesteps, batch.encoder_hidden_states);
  ASSERT_TRUE(before.ok());
  auto lora = TrainableLora::Attach(*modules_, LoraTrainingOptions{}, at::detail::createCPUGenerator(1));
  ASSERT_TRUE(lora.ok()) << lora.status();
  const auto& named = (*lora)->named_parameters();
  EXPECT_EQ(named.size() % 8, 0u);  // q, k, v, out: A and B each
  ASSERT_TRUE(named.count("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight"));
  ASSERT_TRUE(named.count("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0.lora_B.weight"));
  for (const auto& [name, p] : named) {
    EXPECT_TRUE(p.requires_grad()) << name;
    if (name.find("lora_B") != std::string::npos) EXPECT_EQ(p.abs().max().item<float>(), 0.0f) << name;
  }
  // down ~ N(0, 1/rank): over all down weights the spread is close to 1/4.
  std::vector<at::Tensor> downs;
  for (const auto& [name, p] : named) {
    if (name.find("lora_A") != std::string::npos) downs.push_back(p.flatten());
  }
  EXPECT_NEAR(torch::cat(downs).std().item<double>(), 0.25, 0.02);
  auto after = unet_->Forward(batch.latents, batch.timesteps, batch.encoder_hidden_states);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(torch::equal(*before, *after));  // up = 0: no change yet
}

TEST_F(TrainableLoraTest, OnlyTheAdaptersLearnAndTheLossFallsOnAFixedBatch) {
  auto lora = TrainableLora::Attach(*modules_, LoraTrainingOptions{}, at::detail::createCPUGenerator(1));
  ASSERT_TRUE(lora.ok()) << lora.status();
  auto scheduler = diffusion::LoadScheduler(core::ReferencePath("tiny_sd"), diffusion::SchedulerChoice{"ddpm"});
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  const std::vector<at::Tensor> params = (*lora)->parameters();
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-2));
  const DreamBoothBatch batch = Batch();
  std::vector<double> losses;
  for (int step = 0; step < 30; ++step) {
    auto stats = DreamBoothStep(*unet_, **scheduler, params, optimizer, batch, DreamBoothOptions{});
    ASSERT_TRUE(stats.ok()) << stats.status();
    losses.push_back(stats->loss);
    EXPECT_GT(stats->grad_norm, 0);
  }
  EXPECT_LT(losses.back(), 0.8 * losses.front()) << "first " << losses.front() << ", last " << losses.back();
  for (const at::Tensor& w : unet_->module().parameters()) EXPECT_FALSE(w.grad().defined());
}

TEST_F(TrainableLoraTest, LoadsSavedValuesAndNamesWhatDoesNotFit) {
  auto lora = TrainableLora::Attach(*modules_, LoraTrainingOptions{}, at::detail::createCPUGenerator(1));
  ASSERT_TRUE(lora.ok());
  std::map<std::string, at::Tensor> values;
  for (const auto& [name, p] : (*lora)->named_parameters()) values[name] = torch::full_like(p, 0.5);
  ASSERT_TRUE((*lora)->Load(values).ok());
  EXPECT_EQ((*lora)->named_parameters().begin()->second.mean().item<float>(), 0.5f);
  const std::string first = values.begin()->first;
  values[first] = torch::zeros({1, 1});
  values["unet.nowhere.lora_A.weight"] = torch::zeros({4, 4});
  absl::Status bad = (*lora)->Load(values);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr(first + " has shape [1, 1]"));
  EXPECT_THAT(std::string(bad.message()), HasSubstr("unet.nowhere.lora_A.weight is not a parameter"));
}

TEST_F(TrainableLoraTest, BadOptionsAreRefusedNamingTheProblem) {
  LoraTrainingOptions zero;
  zero.rank = 0;
  EXPECT_THAT(std::string(TrainableLora::Attach(*modules_, zero, at::detail::createCPUGenerator(1)).status().message()),
              HasSubstr("rank must be positive"));
  LoraTrainingOptions wide;
  wide.rank = 100000;
  EXPECT_THAT(std::string(TrainableLora::Attach(*modules_, wide, at::detail::createCPUGenerator(1)).status().message()),
              HasSubstr("is wider than"));
  LoraTrainingOptions nothing;
  nothing.target_modules = {"no_such_projection"};
  EXPECT_THAT(
      std::string(TrainableLora::Attach(*modules_, nothing, at::detail::createCPUGenerator(1)).status().message()),
      HasSubstr("matches the targets no_such_projection"));
}

}  // namespace
}  // namespace dreamshot::trainer

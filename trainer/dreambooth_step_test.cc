// The step's optional maths against independent computations: min-SNR
// weights on a four-timestep schedule small enough to check by hand, the
// weighted DreamBooth loss recomputed in double from the model's own
// prediction, and the order of the noise, offset and timestep draws.
#include "trainer/dreambooth_step.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/json_config.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "trainer/tiny_training_model.h"

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;
using VWeight = DreamBoothOptions::VPredictionSnrWeight;

std::unique_ptr<diffusion::Scheduler> Ddpm(const std::string& json) {
  auto config = core::JsonConfig::FromString(json, "test");
  EXPECT_TRUE(config.ok()) << config.status();
  auto scheduler = diffusion::CreateScheduler({"ddpm"}, *config);
  EXPECT_TRUE(scheduler.ok()) << scheduler.status();
  return std::move(*scheduler);
}

// betas 0.1, 0.2, 0.3, 0.4 → ᾱ = 0.9, 0.72, 0.504, 0.3024 → SNR = ᾱ/(1−ᾱ)
// = 9, 18/7, 0.504/0.496, 0.3024/0.6976.
constexpr char kFourSteps[] =
    R"({"num_train_timesteps": 4, "beta_start": 0.1, "beta_end": 0.4, "beta_schedule": "linear")";

std::vector<double> Values(const at::Tensor& t) {
  const at::Tensor d = t.to(torch::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

TEST(MinSnrTest, SnrIsAlphaBarOverOneMinusAlphaBar) {
  auto scheduler = Ddpm(std::string(kFourSteps) + "}");
  const std::vector<double> snr = Values(ComputeSnr(*scheduler, torch::tensor({0, 1, 2, 3}, torch::kLong)));
  ASSERT_EQ(snr.size(), 4u);
  EXPECT_NEAR(snr[0], 9.0, 1e-5);
  EXPECT_NEAR(snr[1], 18.0 / 7.0, 1e-5);
  EXPECT_NEAR(snr[2], 0.504 / 0.496, 1e-5);
  EXPECT_NEAR(snr[3], 0.3024 / 0.6976, 1e-5);
}

TEST(MinSnrTest, SnrOfStableDiffusionsScheduleAtItsFirstTimestep) {
  TinyTrainingModel m;
  // ᾱ_0 = 1 − β_0 = 1 − 0.00085, so SNR = 0.99915 / 0.00085 ≈ 1175.47.
  EXPECT_NEAR(ComputeSnr(*m.scheduler, torch::tensor({0}, torch::kLong)).item<double>(), 0.99915 / 0.00085, 0.05);
}

TEST(MinSnrTest, WeightsPerPredictionType) {
  const at::Tensor t = torch::tensor({0, 1, 2, 3}, torch::kLong);
  DreamBoothOptions o;
  o.snr_gamma = 5;
  // SNR 9 is clipped to γ = 5; the others are below γ.
  auto eps = MinSnrWeights(*Ddpm(std::string(kFourSteps) + "}"), t, o);
  ASSERT_TRUE(eps.ok()) << eps.status();
  EXPECT_THAT(Values(*eps), ::testing::Pointwise(::testing::DoubleNear(1e-6), {5.0 / 9, 1.0, 1.0, 1.0}));

  auto v = Ddpm(std::string(kFourSteps) + R"(, "prediction_type": "v_prediction"})");
  o.v_prediction_snr_weight = VWeight::kDreamBooth;  // min(SNR, γ)/SNR + 1
  EXPECT_THAT(Values(MinSnrWeights(*v, t, o).value()),
              ::testing::Pointwise(::testing::DoubleNear(1e-6), {5.0 / 9 + 1, 2.0, 2.0, 2.0}));
  o.v_prediction_snr_weight = VWeight::kPaper;  // min(SNR, γ)/(SNR + 1): ᾱ itself below γ
  EXPECT_THAT(Values(MinSnrWeights(*v, t, o).value()),
              ::testing::Pointwise(::testing::DoubleNear(1e-6), {5.0 / 10, 0.72, 0.504, 0.3024}));
}

TEST(MinSnrTest, AZeroTerminalSnrScheduleIsRefusedAtItsLastTimestep) {
  auto scheduler = Ddpm(std::string(kFourSteps) + R"(, "rescale_betas_zero_snr": true})");
  DreamBoothOptions o;
  o.snr_gamma = 5;
  EXPECT_TRUE(MinSnrWeights(*scheduler, torch::tensor({0, 1}, torch::kLong), o).ok());
  auto last = MinSnrWeights(*scheduler, torch::tensor({1, 3}, torch::kLong), o);
  EXPECT_EQ(last.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(last.status().message()), HasSubstr("undefined at timestep 3"));
}

// The loss of the tiny UNet on a prior-preservation batch, recomputed here
// in double from its prediction: instance examples weighted by their own
// timesteps' min-SNR weights, class examples plain.
class WeightedLossTest : public ::testing::Test {
 protected:
  DreamBoothBatch Batch() {
    at::Generator g = at::detail::createCPUGenerator(3);
    DreamBoothBatch b;
    b.latents = torch::randn({4, 4, 8, 8}, g);
    b.noise = torch::randn({4, 4, 8, 8}, g);
    b.timesteps = torch::tensor({10, 900, 500, 40}, torch::kLong);
    b.encoder_hidden_states = torch::randn({4, 77, m_.unet->config().cross_attention_dim}, g);
    return b;
  }

  // mean over c, h, w of (pred − target)² per example, in double.
  static std::vector<double> PerExampleMse(const at::Tensor& pred, const at::Tensor& target) {
    return Values((pred.detach().to(torch::kDouble) - target.to(torch::kDouble)).pow(2).mean({1, 2, 3}));
  }

  static double Snr(const diffusion::Scheduler& s, int64_t t) {
    const double a = s.schedule().alphas_cumprod[t].item<double>();
    return a / (1 - a);
  }

  TinyTrainingModel m_;
};

TEST_F(WeightedLossTest, EpsilonInstanceHalfWeightedPriorHalfPlain) {
  const DreamBoothBatch batch = Batch();
  DreamBoothOptions o;
  o.snr_gamma = 5;
  o.prior_loss_weight = 0.75;
  auto loss = ComputeDreamBoothLoss(*m_.unet, *m_.scheduler, batch, o);
  ASSERT_TRUE(loss.ok()) << loss.status();
  const std::vector<double> mse = PerExampleMse(loss->model_pred, batch.noise);
  const int64_t ts[] = {10, 900};
  double instance = 0;
  for (int i = 0; i < 2; ++i) {
    const double snr = Snr(*m_.scheduler, ts[i]);
    instance += std::min(snr, 5.0) / snr * mse[i] / 2;
  }
  const double prior = (mse[2] + mse[3]) / 2;
  // t = 10 has SNR ≫ 5 (weight < 1); t = 900 has SNR < 5 (weight 1).
  ASSERT_LT(5.0 / Snr(*m_.scheduler, 10), 0.1);
  ASSERT_GT(5.0 / Snr(*m_.scheduler, 900), 1.0);
  EXPECT_NEAR(loss->instance_loss.item<double>(), instance, 1e-6 * instance);
  EXPECT_NEAR(loss->prior_loss.item<double>(), prior, 1e-6 * prior);
  EXPECT_NEAR(loss->loss.item<double>(), instance + 0.75 * prior, 1e-6 * (instance + prior));
}

TEST_F(WeightedLossTest, VPredictionTargetsTheVelocityWithEitherWeight) {
  auto v = Ddpm(R"({"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
                    "prediction_type": "v_prediction"})");
  DreamBoothBatch batch = Batch();
  const at::Tensor velocity = v->GetVelocity(batch.latents, batch.noise, batch.timesteps);
  for (VWeight variant : {VWeight::kDreamBooth, VWeight::kPaper}) {
    DreamBoothOptions o;
    o.snr_gamma = 5;
    o.with_prior_preservation = false;
    o.v_prediction_snr_weight = variant;
    auto loss = ComputeDreamBoothLoss(*m_.unet, *v, batch, o);
    ASSERT_TRUE(loss.ok()) << loss.status();
    const std::vector<double> mse = PerExampleMse(loss->model_pred, velocity);
    const std::vector<int64_t> ts = {10, 900, 500, 40};
    double expected = 0;
    for (size_t i = 0; i < ts.size(); ++i) {
      const double snr = Snr(*v, ts[i]);
      const double w = variant == VWeight::kDreamBooth ? std::min(snr, 5.0) / snr + 1 : std::min(snr, 5.0) / (snr + 1);
      expected += w * mse[i] / 4;
    }
    EXPECT_NEAR(loss->instance_loss.item<double>(), expected, 1e-6 * expected);
    EXPECT_EQ(loss->prior_loss.item<double>(), 0.0);
  }
}

TEST_F(WeightedLossTest, WithoutSnrGammaTheLossIsThePlainMeanToTheBit) {
  const DreamBoothBatch batch = Batch();
  auto loss = ComputeDreamBoothLoss(*m_.unet, *m_.scheduler, batch, DreamBoothOptions{});
  ASSERT_TRUE(loss.ok()) << loss.status();
  const std::vector<at::Tensor> pred = loss->model_pred.chunk(2, 0), noise = batch.noise.chunk(2, 0);
  EXPECT_TRUE(torch::equal(loss->instance_loss, torch::mse_loss(pred[0], noise[0])));
  EXPECT_TRUE(torch::equal(loss->prior_loss, torch::mse_loss(pred[1], noise[1])));
}

TEST(TrainingNoiseTest, WithoutAnOffsetTheDrawsAreNoiseThenTimesteps) {
  const at::Tensor latents = torch::zeros({3, 4, 5, 6});
  at::Generator g = at::detail::createCPUGenerator(9), same = at::detail::createCPUGenerator(9);
  auto drawn = DrawTrainingNoise(latents, 1000, 0.0, g);
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  EXPECT_TRUE(torch::equal(drawn->noise, torch::randn({3, 4, 5, 6}, same)));
  EXPECT_TRUE(torch::equal(drawn->timesteps, torch::randint(0, 1000, {3}, same, torch::kLong)));
}

TEST(TrainingNoiseTest, AnOffsetIsDrawnPerExampleAndChannelBetweenNoiseAndTimesteps) {
  const at::Tensor latents = torch::zeros({3, 4, 5, 6});
  at::Generator g = at::detail::createCPUGenerator(9), same = at::detail::createCPUGenerator(9);
  auto drawn = DrawTrainingNoise(latents, 1000, 0.1, g);
  ASSERT_TRUE(drawn.ok()) << drawn.status();
  const at::Tensor base = torch::randn({3, 4, 5, 6}, same);
  const at::Tensor offset = torch::randn({3, 4, 1, 1}, same);
  EXPECT_TRUE(torch::equal(drawn->noise, base + 0.1 * offset));
  EXPECT_TRUE(torch::equal(drawn->timesteps, torch::randint(0, 1000, {3}, same, torch::kLong)));
  // One shift per (example, channel), the same at every pixel.
  const at::Tensor shift = drawn->noise - base;
  EXPECT_TRUE(torch::allclose(shift, shift.amax({2, 3}, /*keepdim=*/true).expand_as(shift)));
}

TEST(DreamBoothOptionsTest, BadValuesAreNamed) {
  DreamBoothOptions o;
  o.snr_gamma = -1;
  EXPECT_THAT(std::string(ValidateDreamBoothOptions(o).message()), HasSubstr("snr_gamma must be"));
  o.snr_gamma = std::nan("");
  EXPECT_THAT(std::string(ValidateDreamBoothOptions(o).message()), HasSubstr("snr_gamma must be"));
  o = DreamBoothOptions{};
  o.noise_offset = std::numeric_limits<double>::infinity();
  EXPECT_THAT(std::string(ValidateDreamBoothOptions(o).message()), HasSubstr("noise_offset must be"));
  EXPECT_TRUE(ValidateDreamBoothOptions(DreamBoothOptions{}).ok());
}

}  // namespace
}  // namespace dreamshot::trainer

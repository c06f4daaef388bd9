// Behaviour of the schedulers beyond the reference trajectories (those run
// in //parity:reference_parity_test): SD 1.5 timesteps, the training-side
// identities, seeded noise, Karras spacing and the errors a caller can hit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/testdata_paths.h"
#include "diffusion/schedulers/ddim.h"
#include "diffusion/schedulers/dpm_solver_multistep.h"
#include "diffusion/schedulers/euler_ancestral.h"
#include "diffusion/schedulers/pndm.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "diffusion/schedulers/sigma_schedule.h"

namespace dreamshot::diffusion {
namespace {

std::vector<int64_t> Values(const at::Tensor& t) {
  const at::Tensor c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

TEST(SchedulerTest, Sd15DdimAndPndmTimesteps) {
  auto ddim = DdimScheduler::Create(SchedulerConfig::StableDiffusion15(TimestepSpacing::kLeading)).value();
  ASSERT_TRUE(ddim->SetTimesteps(10).ok());
  EXPECT_EQ(Values(ddim->timesteps()), (std::vector<int64_t>{901, 801, 701, 601, 501, 401, 301, 201, 101, 1}));
  auto pndm = PndmScheduler::Create(SchedulerConfig::StableDiffusion15(TimestepSpacing::kLeading)).value();
  ASSERT_TRUE(pndm->SetTimesteps(4).ok());
  EXPECT_EQ(Values(pndm->timesteps()), (std::vector<int64_t>{751, 501, 501, 251, 1}));
}

// With the exact training target as model output, a deterministic DDIM step
// lands exactly on the forward process at the previous timestep, for every
// prediction type.
TEST(SchedulerTest, DdimStepWithTheTrueTargetFollowsTheForwardProcess) {
  torch::manual_seed(0);
  const at::Tensor x0 = torch::randn({2, 4, 8, 8}), noise = torch::randn({2, 4, 8, 8});
  for (PredictionType type : {PredictionType::kEpsilon, PredictionType::kVPrediction, PredictionType::kSample}) {
    SchedulerConfig config = SchedulerConfig::StableDiffusion15(TimestepSpacing::kLeading);
    config.prediction_type = type;
    auto ddim = DdimScheduler::Create(config).value();
    ASSERT_TRUE(ddim->SetTimesteps(20).ok());
    const at::Tensor t = ddim->timesteps()[5].expand({2});
    const at::Tensor prev_t = ddim->timesteps()[6].expand({2});
    const at::Tensor x_t = ddim->AddNoise(x0, noise, t);
    const at::Tensor target = ddim->TrainingTarget(x0, noise, t);
    const at::Tensor prev = ddim->Step(target, 5, x_t).value();
    EXPECT_LT((prev - ddim->AddNoise(x0, noise, prev_t)).abs().max().item<double>(), 1e-4)
        << static_cast<int>(type);
  }
}

TEST(SchedulerTest, VelocityRecoversTheCleanSample) {
  auto ddim = DdimScheduler::Create(SchedulerConfig::StableDiffusion15(TimestepSpacing::kLeading)).value();
  torch::manual_seed(1);
  const at::Tensor x0 = torch::randn({3, 4, 4, 4}), noise = torch::randn({3, 4, 4, 4});
  const at::Tensor t = torch::tensor({0, 500, 999}, torch::kLong);
  const at::Tensor a = ddim->schedule().alphas_cumprod.index_select(0, t).view({3, 1, 1, 1});
  const at::Tensor x_t = ddim->AddNoise(x0, noise, t);
  const at::Tensor v = ddim->GetVelocity(x0, noise, t);
  EXPECT_LT((a.sqrt() * x_t - (1 - a).sqrt() * v - x0).abs().max().item<double>(), 1e-5);
}

TEST(SchedulerTest, AncestralNoiseComesFromTheGivenGenerator) {
  auto run = [](uint64_t seed) {
    SchedulerChoice choice{"euler_a"};
    auto json = core::JsonConfig::FromString("{}", "test").value();
    auto s = CreateScheduler(choice, json).value();
    EXPECT_TRUE(s->SetTimesteps(5).ok());
    GeneratorNoise noise(at::detail::createCPUGenerator(seed));
    at::Tensor x = torch::ones({1, 4, 8, 8}) * s->init_noise_sigma();
    for (int64_t i = 0; i < s->num_steps(); ++i) x = s->Step(0.1 * x, i, x, &noise).value();
    return x;
  };
  EXPECT_TRUE(run(7).equal(run(7)));
  EXPECT_FALSE(run(7).equal(run(8)));
}

TEST(SchedulerTest, PerSampleNoiseDrawsEachRowFromItsOwnGenerator) {
  PerSampleNoise pair({at::detail::createCPUGenerator(5), at::detail::createCPUGenerator(9)});
  PerSampleNoise alone({at::detail::createCPUGenerator(9)});
  const at::Tensor like = torch::empty({2, 4, 3, 3});
  for (int draw = 0; draw < 3; ++draw) {  // the streams stay aligned draw after draw
    const at::Tensor both = pair.NoiseLike(like);
    EXPECT_TRUE(both[1].equal(alone.NoiseLike(like.narrow(0, 0, 1))[0])) << draw;
  }
}

TEST(SchedulerTest, KarrasSigmasRunFromMaxToMinEvenlyInSigmaToTheOneSeventh) {
  const std::vector<double> s = KarrasSigmas(0.03, 14.6, 10);
  EXPECT_NEAR(s.front(), 14.6, 1e-9);
  EXPECT_NEAR(s.back(), 0.03, 1e-9);
  for (size_t i = 1; i < s.size(); ++i) {
    EXPECT_LT(s[i], s[i - 1]);
    if (i >= 2) {
      EXPECT_NEAR(std::pow(s[i], 1 / 7.0) - std::pow(s[i - 1], 1 / 7.0),
                  std::pow(s[i - 1], 1 / 7.0) - std::pow(s[i - 2], 1 / 7.0), 1e-9);
    }
  }
  auto json = core::JsonConfig::FromString("{\"steps_offset\": 1}", "test").value();
  auto dpm = CreateScheduler({"dpmpp_2m_karras"}, json).value();
  ASSERT_TRUE(dpm->SetTimesteps(12).ok());
  const std::vector<int64_t> t = Values(dpm->timesteps());
  EXPECT_EQ(t.front(), 999);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_LT(t[i], t[i - 1]);
  at::Tensor x = torch::randn({1, 4, 8, 8}) * dpm->init_noise_sigma();
  for (int64_t i = 0; i < dpm->num_steps(); ++i) x = dpm->Step(0.1 * x, i, x).value();
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
}

TEST(SchedulerTest, SigmaToTimestepInvertsTheTrainingSigmas) {
  std::vector<double> log_sigmas;
  for (int i = 0; i < 10; ++i) log_sigmas.push_back(std::log(0.1 * (i + 1)));
  EXPECT_NEAR(SigmaToTimestep(0.3, log_sigmas), 2.0, 1e-9);
  EXPECT_NEAR(SigmaToTimestep(std::exp((std::log(0.3) + std::log(0.4)) / 2), log_sigmas), 2.5, 1e-9);
  EXPECT_NEAR(SigmaToTimestep(5.0, log_sigmas), 9.0, 1e-9);    // clamped high
  EXPECT_NEAR(SigmaToTimestep(0.01, log_sigmas), 0.0, 1e-9);   // clamped low
}

TEST(SchedulerTest, LoadsTheSchedulerAModelFolderNames) {
  auto pndm = LoadScheduler(core::ReferencePath("tiny_sd"), {});
  ASSERT_TRUE(pndm.ok()) << pndm.status();
  EXPECT_EQ((*pndm)->name(), "PNDMScheduler");
  auto euler = LoadScheduler(core::ReferencePath("tiny_sd"), {"EulerDiscreteScheduler"});
  ASSERT_TRUE(euler.ok()) << euler.status();
  EXPECT_EQ((*euler)->name(), "EulerDiscreteScheduler");
}

TEST(SchedulerTest, ErrorsNameTheProblem) {
  auto json = core::JsonConfig::FromString("{}", "cfg.json").value();
  auto unknown = CreateScheduler({"heun"}, json);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown scheduler \"heun\" (ddim, pndm"), std::string::npos);

  auto bad_spacing = CreateScheduler({"ddim"}, core::JsonConfig::FromString(
                                                   "{\"timestep_spacing\": \"cosine\"}", "cfg.json").value());
  ASSERT_FALSE(bad_spacing.ok());
  EXPECT_NE(bad_spacing.status().message().find("timestep_spacing \"cosine\""), std::string::npos);

  auto ddim = CreateScheduler({"ddim"}, json).value();
  EXPECT_EQ(ddim->Step(torch::zeros({1}), 0, torch::zeros({1})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ddim->SetTimesteps(0).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ddim->SetTimesteps(5).ok());
  EXPECT_EQ(ddim->Step(torch::zeros({1}), 5, torch::zeros({1})).status().code(), absl::StatusCode::kOutOfRange);

  auto pndm = CreateScheduler({"pndm"}, json).value();
  ASSERT_TRUE(pndm->SetTimesteps(5).ok());
  auto skipped = pndm->Step(torch::zeros({1}), 2, torch::zeros({1}));
  EXPECT_EQ(skipped.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(skipped.status().message().find("expected step 0"), std::string::npos);

  // SD 1.5's leading spacing with steps_offset 1: 1000 steps would reach
  // timestep 1000 of a 0..999 schedule.
  auto sd15 = DdimScheduler::Create(SchedulerConfig::StableDiffusion15(TimestepSpacing::kLeading)).value();
  const absl::Status too_many = sd15->SetTimesteps(1000);
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.message().find("1000 steps reach timestep 1000"), std::string::npos) << too_many;
  EXPECT_TRUE(sd15->SetTimesteps(999).ok());

  auto sample_pndm = CreateScheduler(
      {"pndm"}, core::JsonConfig::FromString("{\"prediction_type\": \"sample\"}", "cfg.json").value());
  EXPECT_FALSE(sample_pndm.ok());
}

}  // namespace
}  // namespace dreamshot::diffusion

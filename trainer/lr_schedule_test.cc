// The schedules' values at chosen steps, worked out by hand from the
// formulas of diffusers/optimization.py (see lr_schedule.h).
#include "trainer/lr_schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;

LrSchedule Make(const std::string& name, int64_t warmup, int64_t total, double lr = 1e-4) {
  LrScheduleOptions o;
  o.name = name;
  o.base_lr = lr;
  o.warmup_steps = warmup;
  o.total_steps = total;
  auto s = LrSchedule::Create(o);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

TEST(LrScheduleTest, WarmupRampsFromZeroThenEachScheduleDecaysByItsFormula) {
  const LrSchedule constant = Make("constant", 10, 100);
  EXPECT_EQ(constant.Multiplier(0), 1.0);  // constant ignores warmup, as upstream
  const LrSchedule warm = Make("constant_with_warmup", 10, 100);
  EXPECT_EQ(warm.Multiplier(0), 0.0);
  EXPECT_DOUBLE_EQ(warm.Multiplier(5), 0.5);
  EXPECT_EQ(warm.Multiplier(10), 1.0);
  EXPECT_EQ(warm.Multiplier(99), 1.0);

  const LrSchedule linear = Make("linear", 10, 100);
  EXPECT_DOUBLE_EQ(linear.Multiplier(3), 0.3);
  EXPECT_DOUBLE_EQ(linear.Multiplier(10), 1.0);
  EXPECT_DOUBLE_EQ(linear.Multiplier(55), 0.5);   // (100 - 55) / 90
  EXPECT_DOUBLE_EQ(linear.Multiplier(100), 0.0);
  EXPECT_DOUBLE_EQ(linear.Multiplier(120), 0.0);  // never negative

  const LrSchedule cosine = Make("cosine", 0, 100);
  EXPECT_DOUBLE_EQ(cosine.Multiplier(0), 1.0);
  EXPECT_NEAR(cosine.Multiplier(50), 0.5, 1e-15);  // half a cosine over the run
  EXPECT_NEAR(cosine.Multiplier(25), 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-15);
  EXPECT_NEAR(cosine.Multiplier(100), 0.0, 1e-15);

  const LrSchedule restarts = Make("cosine_with_restarts", 0, 100);
  EXPECT_NEAR(restarts.Multiplier(50), 0.5, 1e-15);
  EXPECT_EQ(restarts.Multiplier(100), 0.0);

  const LrSchedule poly = Make("polynomial", 0, 100, 1e-3);
  EXPECT_DOUBLE_EQ(poly.Multiplier(0), 1.0);
  EXPECT_NEAR(poly.Multiplier(50), ((1e-3 - 1e-7) * 0.5 + 1e-7) / 1e-3, 1e-15);
  EXPECT_NEAR(poly.Multiplier(100), 1e-7 / 1e-3, 1e-15);
  EXPECT_NEAR(poly.Multiplier(150), 1e-7 / 1e-3, 1e-15);
}

TEST(LrScheduleTest, ApplySetsTheOptimizersLearningRate) {
  at::Tensor w = torch::zeros({2}, torch::requires_grad());
  torch::optim::AdamW optimizer({w}, torch::optim::AdamWOptions(1e-4));
  const LrSchedule linear = Make("linear", 0, 4, 1e-4);
  linear.Apply(optimizer, 1);
  EXPECT_DOUBLE_EQ(optimizer.param_groups()[0].options().get_lr(), 0.75e-4);
}

TEST(LrScheduleTest, BadOptionsNameTheField) {
  LrScheduleOptions o;
  o.name = "exponential";
  EXPECT_THAT(std::string(LrSchedule::Create(o).status().message()),
              HasSubstr("unknown schedule 'exponential' (constant, constant_with_warmup, linear"));
  o.name = "linear";
  o.base_lr = 0;
  EXPECT_THAT(std::string(LrSchedule::Create(o).status().message()), HasSubstr("learning_rate must be"));
  o.base_lr = std::nan("");
  EXPECT_THAT(std::string(LrSchedule::Create(o).status().message()), HasSubstr("learning_rate must be"));
  o.base_lr = 1e-4;
  o.total_steps = 0;
  EXPECT_THAT(std::string(LrSchedule::Create(o).status().message()), HasSubstr("max_train_steps must be positive"));
  o.total_steps = 10;
  o.warmup_steps = -1;
  EXPECT_THAT(std::string(LrSchedule::Create(o).status().message()), HasSubstr("lr_warmup_steps"));
  o.warmup_steps = 0;
  o.name = "polynomial";
  o.lr_end = 1e-3;
  EXPECT_THAT(std::string(LrSchedule::Create(o).status().message()), HasSubstr("lr_end (0.001)"));
}

}  // namespace
}  // namespace dreamshot::trainer

// The loop on the tiny UNet with made-up encoded examples: the loss falls;
// a run cancelled mid-way and resumed from its checkpoint ends to the bit
// where an uninterrupted run ends; the data order; bad options named.
#include "trainer/training_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "trainer/tiny_training_model.h"

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;

using Model = TinyTrainingModel;

TrainingData Data(int64_t dim) {
  at::Generator g = at::detail::createCPUGenerator(11);
  TrainingData data;
  for (int i = 0; i < 3; ++i) data.instance.push_back({torch::randn({4, 8, 8}, g), torch::randn({77, dim}, g)});
  for (int i = 0; i < 2; ++i) data.prior.push_back({torch::randn({4, 8, 8}, g), torch::randn({77, dim}, g)});
  return data;
}

TrainingLoopOptions Options(int64_t steps) {
  TrainingLoopOptions o;
  o.max_steps = steps;
  o.seed = 5;
  o.lr.base_lr = 1e-3;
  o.lr.name = "cosine";
  o.lr.warmup_steps = 2;
  return o;
}

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid()) + ".safetensors";
}

TEST(TrainingLoopTest, TheLossFallsAndEveryStepIsReported) {
  Model m;
  TrainingLoopOptions o = Options(40);
  o.lr.name = "constant";
  o.lr.base_lr = 1e-2;
  std::vector<double> losses;
  auto summary = RunTrainingLoop(*m.unet, *m.scheduler, *m.lora, Data(m.unet->config().cross_attention_dim), o,
                                 [&](const StepReport& r) { losses.push_back(r.loss); });
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(losses.size(), 40u);
  EXPECT_EQ(summary->reports.back().step, 40);
  // Noise and timesteps change every step, so compare the means of the first and last ten.
  double first = 0, last = 0;
  for (int i = 0; i < 10; ++i) first += losses[i], last += losses[30 + i];
  EXPECT_LT(last, 0.8 * first) << "first ten " << first / 10 << ", last ten " << last / 10;
}

TEST(TrainingLoopTest, ACancelledRunResumedFromItsCheckpointEndsBitIdentical) {
  const TrainingData data = Data(Model().unet->config().cross_attention_dim);
  Model straight;
  ASSERT_TRUE(RunTrainingLoop(*straight.unet, *straight.scheduler, *straight.lora, data, Options(6), nullptr).ok());

  const std::string path = TempPath("loop-resume");
  std::filesystem::remove(path);
  TrainingLoopOptions o = Options(6);
  o.checkpoint_path = path;
  {
    Model first;
    core::CancelFlag cancel;
    auto stopped = RunTrainingLoop(*first.unet, *first.scheduler, *first.lora, data, o,
                                   [&](const StepReport& r) {
                                     if (r.step == 4) cancel.Cancel();
                                   },
                                   &cancel);
    EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled);
    EXPECT_THAT(std::string(stopped.status().message()), HasSubstr("stopped at step 4 of 6"));
  }
  Model resumed;
  auto summary = RunTrainingLoop(*resumed.unet, *resumed.scheduler, *resumed.lora, data, o, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->resumed_from, 4);
  EXPECT_EQ(summary->reports.size(), 2u);
  for (const auto& [name, weight] : straight.lora->named_parameters()) {
    EXPECT_TRUE(torch::equal(weight, resumed.lora->named_parameters().at(name))) << name;
  }
}

TEST(TrainingLoopTest, FinishingEarlyEndsACompletedRunAtTheStepReached) {
  const TrainingData data = Data(Model().unet->config().cross_attention_dim);
  const std::string path = TempPath("loop-finish-early");
  std::filesystem::remove(path);
  TrainingLoopOptions o = Options(6);
  o.checkpoint_path = path;
  Model m;
  core::CancelFlag cancel, finish_early;
  auto summary = RunTrainingLoop({m.unet.get(), m.lora.get()}, *m.scheduler, data, o,
                                 [&](const StepReport& r) {
                                   if (r.step == 3) finish_early.Cancel();
                                 },
                                 &cancel, &finish_early);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(summary->finished_early);
  EXPECT_EQ(summary->steps, 3);
  EXPECT_EQ(summary->reports.size(), 3u);
  // Its checkpoint holds step 3: a later run of the same config resumes there.
  Model again;
  auto resumed = RunTrainingLoop(*again.unet, *again.scheduler, *again.lora, data, o, nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->resumed_from, 3);
  EXPECT_FALSE(resumed->finished_early);
}

// Recomputing activations changes only float32 rounding (the gradients add
// up in another order): after three steps the adapters agree within 1e-5
// absolute, the weight tolerance of the reference training cases, where a
// step moves a weight by up to the learning rate, 1e-3 (observed: 7e-7).
// Before the runtime LoRA deltas were passed to the checkpointed blocks,
// their gradients were lost there and the weights differed by 5e-4.
TEST(TrainingLoopTest, GradientCheckpointingGivesTheSameAdapter) {
  const TrainingData data = Data(Model().unet->config().cross_attention_dim);
  Model plain, checkpointed;
  TrainingLoopOptions o = Options(3);
  o.step.snr_gamma = 5;
  o.step.noise_offset = 0.1;
  auto a = RunTrainingLoop(*plain.unet, *plain.scheduler, *plain.lora, data, o, nullptr);
  ASSERT_TRUE(a.ok()) << a.status();
  o.gradient_checkpointing = true;
  auto b = RunTrainingLoop(*checkpointed.unet, *checkpointed.scheduler, *checkpointed.lora, data, o, nullptr);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(checkpointed.unet->gradient_checkpointing()) << "the loop puts the UNet back as it was";
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(a->reports[i].loss, b->reports[i].loss, 1e-5 * a->reports[i].loss) << "step " << i + 1;
    EXPECT_NEAR(a->reports[i].grad_norm, b->reports[i].grad_norm, 1e-4 * a->reports[i].grad_norm) << "step " << i + 1;
  }
  double moved = 0;
  for (const auto& [name, weight] : plain.lora->named_parameters()) {
    const at::Tensor other = checkpointed.lora->named_parameters().at(name);
    EXPECT_LE((weight - other).abs().max().item<double>(), 1e-5) << name;
    if (name.find("lora_B") != std::string::npos) moved = std::max(moved, weight.abs().max().item<double>());
  }
  EXPECT_GT(moved, 1e-3) << "the up weights start at 0 and must have been trained";
}

TEST(TrainingLoopTest, DataOrderIsAPermutationPerEpochFixedBySeedAndPosition) {
  std::vector<int64_t> epoch0, epoch1;
  for (int p = 0; p < 5; ++p) epoch0.push_back(InstanceIndexAt(9, p, 5));
  for (int p = 5; p < 10; ++p) epoch1.push_back(InstanceIndexAt(9, p, 5));
  std::vector<int64_t> sorted0 = epoch0, sorted1 = epoch1;
  std::sort(sorted0.begin(), sorted0.end());
  std::sort(sorted1.begin(), sorted1.end());
  EXPECT_EQ(sorted0, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sorted1, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(InstanceIndexAt(9, 3, 5), epoch0[3]);  // the same position, the same example
}

TEST(TrainingLoopTest, BadOptionsAndDataAreNamed) {
  Model m;
  TrainingData none;
  EXPECT_THAT(std::string(RunTrainingLoop(*m.unet, *m.scheduler, *m.lora, none, Options(1), nullptr).status().message()),
              HasSubstr("no instance examples"));
  TrainingData no_class = Data(m.unet->config().cross_attention_dim);
  no_class.prior.clear();
  EXPECT_THAT(
      std::string(RunTrainingLoop(*m.unet, *m.scheduler, *m.lora, no_class, Options(1), nullptr).status().message()),
      HasSubstr("prior preservation needs class examples"));
  TrainingLoopOptions o = Options(1);
  o.gradient_accumulation = 0;
  EXPECT_THAT(std::string(RunTrainingLoop(*m.unet, *m.scheduler, *m.lora, Data(m.unet->config().cross_attention_dim),
                                          o, nullptr)
                              .status()
                              .message()),
              HasSubstr("gradient_accumulation_steps must be positive"));
  o = Options(1);
  o.lr.base_lr = -1;
  EXPECT_THAT(std::string(RunTrainingLoop(*m.unet, *m.scheduler, *m.lora, Data(m.unet->config().cross_attention_dim),
                                          o, nullptr)
                              .status()
                              .message()),
              HasSubstr("learning_rate must be"));
}

}  // namespace
}  // namespace dreamshot::trainer

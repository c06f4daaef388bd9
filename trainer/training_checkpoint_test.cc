// Resume is exact: three steps, a checkpoint, then three more in fresh
// objects (as after a killed process) end with the same adapter weights, to
// the bit, as six steps without a stop; a checkpoint made for another rank
// or base model is refused naming what differs.
#include "trainer/training_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "trainer/tiny_training_model.h"
#include "models/unet/unet_2d_condition.h"
#include "trainer/dreambooth_step.h"

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;

// A training process: model, adapter, optimizer and the generator that
// draws each step's noise and timesteps.
struct TrainingProcess : TinyTrainingModel {
  at::Generator generator = at::detail::createCPUGenerator(42);
  std::unique_ptr<torch::optim::AdamW> optimizer;
  at::Tensor latents, text;

  explicit TrainingProcess(int64_t rank = 4) : TinyTrainingModel(rank, 42) {
    optimizer = std::make_unique<torch::optim::AdamW>(lora->parameters(), torch::optim::AdamWOptions(1e-3));
    auto fixed = at::detail::createCPUGenerator(7);
    latents = torch::randn({2, 4, 8, 8}, fixed);
    text = torch::randn({2, 77, unet->config().cross_attention_dim}, fixed);
  }

  void Steps(int n) {
    for (int i = 0; i < n; ++i) {
      DreamBoothBatch batch;
      batch.latents = latents;
      batch.encoder_hidden_states = text;
      batch.noise = torch::randn(latents.sizes(), generator);
      batch.timesteps = torch::randint(0, 1000, {2}, generator, torch::kLong);
      auto stats = DreamBoothStep(*unet, *scheduler, lora->parameters(), *optimizer, batch, DreamBoothOptions{});
      ASSERT_TRUE(stats.ok()) << stats.status();
    }
  }
};

std::string TempFile(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid()) + ".safetensors";
}

TEST(TrainingCheckpointTest, AResumedRunEndsBitIdenticalToAnUninterruptedOne) {
  TrainingProcess straight;
  straight.Steps(6);

  const std::string path = TempFile("resume");
  const std::map<std::string, std::string> identity = {{"dreamshot.base_model", "tiny_sd"}};
  {
    TrainingProcess first;
    first.Steps(3);
    ASSERT_TRUE(SaveTrainingCheckpoint(path, *first.lora, *first.optimizer, 3, first.generator, identity).ok());
  }  // the process dies
  TrainingProcess resumed;
  auto step = LoadTrainingCheckpoint(path, *resumed.lora, *resumed.optimizer, resumed.generator, identity);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(*step, 3);
  resumed.Steps(3);
  for (const auto& [name, weight] : straight.lora->named_parameters()) {
    EXPECT_TRUE(torch::equal(weight, resumed.lora->named_parameters().at(name))) << name;
  }
}

TEST(TrainingCheckpointTest, ACheckpointOfAnotherRankOrBaseModelIsRefusedNamingTheDifference) {
  const std::string path = TempFile("mismatch");
  TrainingProcess rank4;
  rank4.Steps(1);
  ASSERT_TRUE(
      SaveTrainingCheckpoint(path, *rank4.lora, *rank4.optimizer, 1, rank4.generator, {{"dreamshot.base_model", "a"}})
          .ok());
  TrainingProcess rank8(8);
  absl::Status other_rank =
      LoadTrainingCheckpoint(path, *rank8.lora, *rank8.optimizer, rank8.generator, {{"dreamshot.base_model", "a"}})
          .status();
  EXPECT_EQ(other_rank.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(other_rank.message()), HasSubstr("rank = '4', this run has '8'"));
  TrainingProcess other;
  absl::Status other_base =
      LoadTrainingCheckpoint(path, *other.lora, *other.optimizer, other.generator, {{"dreamshot.base_model", "b"}})
          .status();
  EXPECT_EQ(other_base.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(other_base.message()), HasSubstr("dreamshot.base_model = 'a', this run has 'b'"));
  EXPECT_EQ(LoadTrainingCheckpoint(TempFile("absent"), *other.lora, *other.optimizer, other.generator, {})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::trainer

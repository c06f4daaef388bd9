// Resume is exact: three steps, a checkpoint, then three more in fresh
// objects (as after a killed process) end with the same adapter weights, to
// the bit, as six steps without a stop; a checkpoint made for another rank
// or base model is refused naming what differs.
#include "trainer/training_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

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


// A disk that fills up while a checkpoint is written: the write fails with
// RESOURCE_EXHAUSTED and the previous checkpoint still loads, whole. Needs
// root to mount a small tmpfs (CI runs as root); skipped elsewhere.
TEST(TrainingCheckpointTest, ADiskThatFillsUpMidCheckpointLeavesThePreviousOneValid) {
  if (::geteuid() != 0) GTEST_SKIP() << "skipped: mounting the tmpfs this test fills needs root";
  const std::string dir = std::string(::testing::TempDir()) + "/ckpt-tmpfs-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "skipped: cannot mount a tmpfs on " << dir << ": " << std::strerror(errno);
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { ::umount(dir.c_str()); }
  } unmount{dir};
  const std::string path = dir + "/checkpoint.safetensors";
  const std::map<std::string, std::string> identity = {{"dreamshot.base_model", "tiny_sd"}};
  TrainingProcess process;
  process.Steps(1);
  ASSERT_TRUE(SaveTrainingCheckpoint(path, *process.lora, *process.optimizer, 1, process.generator, identity).ok());
  const auto size = std::filesystem::file_size(path);
  // Fill the disk up to less than half a checkpoint.
  {
    struct statvfs fs {};
    ASSERT_EQ(::statvfs(dir.c_str(), &fs), 0);
    const int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    std::ofstream filler(dir + "/filler", std::ios::binary);
    const std::string block(4096, 'x');
    for (int64_t left = free_bytes - static_cast<int64_t>(size / 2); left > 0; left -= 4096) filler << block;
  }
  process.Steps(1);
  const absl::Status full =
      SaveTrainingCheckpoint(path, *process.lora, *process.optimizer, 2, process.generator, identity);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_THAT(std::string(full.message()), HasSubstr(dir));
  // Nothing half-written beside it, and the step-1 checkpoint is whole.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "checkpoint.safetensors" || name == "filler") << name;
  }
  TrainingProcess resumed;
  auto step = LoadTrainingCheckpoint(path, *resumed.lora, *resumed.optimizer, resumed.generator, identity);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(*step, 1);
}

}  // namespace
}  // namespace dreamshot::trainer

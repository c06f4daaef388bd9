// Blob files and their rows: a file written for a row that failed is removed
// at once, bytes another row or writer has are kept, and the start-up sweep
// removes exactly the noted files whose rows never came.
#include "experiments/artifact_writes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

namespace fs = std::filesystem;

class ArtifactWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/artifact-writes-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = ExperimentStore::Open(dir_ + "/experiments.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    artifacts_ = std::make_unique<ArtifactStore>(store_->database());
    blobs_ = std::make_unique<ArtifactBlobs>(
        dir_ + "/artifacts", [this](const std::string& sha) { return artifacts_->NoteBlobWrite(sha); });
    auto experiment = store_->CreateExperiment("e", "", {});
    ASSERT_TRUE(experiment.ok());
    NewRun run;
    run.experiment_id = experiment->id;
    auto created = store_->CreateRun(run);
    ASSERT_TRUE(created.ok());
    run_id_ = created->id;
  }

  Artifact At(const std::string& path, int64_t run_id = 0) {
    Artifact a;
    a.run_id = run_id ? run_id : run_id_;
    a.kind = "image";
    a.path = path;
    return a;
  }

  bool Exists(const std::string& sha) { return fs::exists(blobs_->PathFor(sha)); }

  std::string dir_;
  std::unique_ptr<ExperimentStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<ArtifactBlobs> blobs_;
  int64_t run_id_ = 0;
};

TEST_F(ArtifactWritesTest, ARecordedBlobKeepsItsFileAndLeavesNoNote) {
  auto stored = AddArtifactBytes(*artifacts_, *blobs_, At("a.png"), "bytes a");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(Exists(stored->sha256));
  EXPECT_EQ(stored->size_bytes, 7);
  EXPECT_TRUE(artifacts_->UnrecordedBlobWrites()->empty());
}

TEST_F(ArtifactWritesTest, AFailedRecordRemovesTheFileItWrote) {
  auto failed = AddArtifactBytes(*artifacts_, *blobs_, At("a.png", /*run_id=*/4242), "orphan bytes");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
  // Nothing is left under artifacts/ but empty folders, and no note either.
  for (const auto& entry : fs::recursive_directory_iterator(dir_ + "/artifacts")) {
    EXPECT_TRUE(entry.is_directory()) << entry.path();
  }
  EXPECT_TRUE(artifacts_->UnrecordedBlobWrites()->empty());
}

TEST_F(ArtifactWritesTest, AFailedRecordKeepsBytesThatARowAlreadyHas) {
  auto first = AddArtifactBytes(*artifacts_, *blobs_, At("a.png"), "shared bytes");
  ASSERT_TRUE(first.ok());
  auto again = AddArtifactBytes(*artifacts_, *blobs_, At("a.png"), "shared bytes");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Exists(first->sha256));
}

TEST_F(ArtifactWritesTest, AFailedRecordKeepsBytesAnotherWriterMetMeanwhile) {
  auto mine = blobs_->PutBytesToRecord("same bytes");
  ASSERT_TRUE(mine.ok());
  auto theirs = blobs_->PutBytes("same bytes");  // e.g. a pool build, recording later
  ASSERT_TRUE(theirs.ok());
  blobs_->Settle(mine->sha256, /*recorded=*/false, [](const std::string&) { return false; });
  EXPECT_TRUE(Exists(mine->sha256));
}

TEST_F(ArtifactWritesTest, TheSweepRemovesOnlyNotedFilesWithoutRows) {
  auto kept = AddArtifactBytes(*artifacts_, *blobs_, At("kept.png"), "recorded bytes");
  ASSERT_TRUE(kept.ok());
  // A write whose row never came (a crash between file and row).
  auto left = blobs_->PutBytes("left behind");
  ASSERT_TRUE(left.ok());
  // A file another store sharing the folder wrote: not ours to judge.
  ArtifactBlobs other_store(dir_ + "/artifacts");
  auto foreign = other_store.PutBytes("another store's bytes");
  ASSERT_TRUE(foreign.ok());
  ASSERT_EQ(*artifacts_->UnrecordedBlobWrites(), std::vector<std::string>{left->sha256});

  auto removed = SweepUnrecordedBlobs(*artifacts_, *blobs_);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(Exists(left->sha256));
  EXPECT_TRUE(Exists(kept->sha256));
  EXPECT_TRUE(Exists(foreign->sha256));
  EXPECT_TRUE(artifacts_->UnrecordedBlobWrites()->empty());
  EXPECT_EQ(*SweepUnrecordedBlobs(*artifacts_, *blobs_), 0);
}

TEST_F(ArtifactWritesTest, AServerFileIsCopiedRecordedAndItsStagingCleared) {
  const std::string source = dir_ + "/source.bin";
  std::ofstream(source) << "from disk";
  auto stored = AddArtifactFile(*artifacts_, *blobs_, At("f.bin"), source);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(Exists(stored->sha256));
  auto failed = AddArtifactFile(*artifacts_, *blobs_, At("g.bin", 4242), dir_ + "/source.bin");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Exists(stored->sha256)) << "a row has these bytes";
  for (const auto& entry : fs::directory_iterator(dir_ + "/artifacts")) {
    EXPECT_EQ(entry.path().filename().string().rfind(".staging", 0), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace dreamshot::experiments

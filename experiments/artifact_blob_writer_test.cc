#include "experiments/artifact_blob_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "experiments/artifact_blobs.h"

namespace dreamshot::experiments {
namespace {

namespace fs = std::filesystem;

class ArtifactBlobWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(::testing::TempDir()) + "/blob-writer-" + std::to_string(::getpid()) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
  }

  // Every file under the root, relative, sorted.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    if (!fs::exists(root_)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root_).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  std::string root_;
};

TEST_F(ArtifactBlobWriterTest, PiecesBecomeOneContentAddressedBlob) {
  ArtifactBlobs blobs(root_);
  auto writer = ArtifactBlobWriter::Start(blobs);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::string content = std::string(3000, 'a') + std::string(5, 'b') + "tail";
  ASSERT_TRUE((*writer)->Append(content.substr(0, 3000)).ok());
  ASSERT_TRUE((*writer)->Append("").ok());
  ASSERT_TRUE((*writer)->Append(content.substr(3000)).ok());
  EXPECT_EQ((*writer)->size(), static_cast<int64_t>(content.size()));
  // Before Commit the bytes are only in the staging file.
  ASSERT_EQ(Files().size(), 1u);
  EXPECT_EQ(Files()[0].rfind(".staging-", 0), 0u) << Files()[0];

  absl::StatusOr<std::string> sha = (*writer)->Finish();
  ASSERT_TRUE(sha.ok()) << sha.status();
  EXPECT_EQ(*sha, core::Sha256Hex(content));
  absl::StatusOr<StoredBlob> blob = (*writer)->Commit();
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->sha256, *sha);
  EXPECT_EQ(blob->size_bytes, static_cast<int64_t>(content.size()));
  EXPECT_EQ(blob->uri, "file://" + blobs.PathFor(*sha));
  writer->reset();
  // The same place PutBytes would have chosen, and nothing else is left.
  EXPECT_EQ(Files(), std::vector<std::string>{sha->substr(0, 2) + "/" + *sha});
  EXPECT_EQ(Read(blobs.PathFor(*sha)), content);
  EXPECT_EQ(blobs.PutBytes(content)->uri, blob->uri);
}

TEST_F(ArtifactBlobWriterTest, EmptyBlob) {
  ArtifactBlobs blobs(root_);
  auto writer = ArtifactBlobWriter::Start(blobs);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(*(*writer)->Finish(), core::Sha256Hex(""));
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(Read(blobs.PathFor(core::Sha256Hex(""))), "");
}

TEST_F(ArtifactBlobWriterTest, DroppedWriterLeavesNothing) {
  ArtifactBlobs blobs(root_);
  {
    auto writer = ArtifactBlobWriter::Start(blobs);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("partial upload").ok());
    EXPECT_TRUE(fs::exists((*writer)->staging_path()));
  }
  {
    auto writer = ArtifactBlobWriter::Start(blobs);  // finished (hashed) but not committed
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("verified, then refused").ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  EXPECT_TRUE(Files().empty()) << Files()[0];
}

TEST_F(ArtifactBlobWriterTest, OutOfOrderCallsAreRefused) {
  ArtifactBlobs blobs(root_);
  auto writer = ArtifactBlobWriter::Start(blobs);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->Commit().status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->Append("late").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ((*writer)->Commit().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ArtifactBlobWriterTest, UnwritableRootIsAnError) {
  fs::create_directories(fs::path(root_).parent_path());
  std::ofstream(root_) << "a file where the blob folder should be";
  ArtifactBlobs blobs(root_);
  EXPECT_FALSE(ArtifactBlobWriter::Start(blobs).ok());
}

}  // namespace
}  // namespace dreamshot::experiments

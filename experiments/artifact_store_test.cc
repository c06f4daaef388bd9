// Artifact records over content-addressed blobs.
#include "experiments/artifact_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "experiments/artifact_blobs.h"
#include "experiments/store_test_util.h"

namespace dreamshot::experiments {
namespace {

class ArtifactStoreTest : public StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    artifacts_ = std::make_unique<ArtifactStore>(store_->database());
  }

  std::unique_ptr<ArtifactStore> artifacts_;
};

TEST_F(ArtifactStoreTest, ArtifactsAreContentAddressedAndUniquePerPath) {
  experiments::Run run = NewRunWith({});
  ArtifactBlobs blobs(TempPath("blobs"));
  auto blob = blobs.PutBytes("hello");
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  std::ifstream in(blobs.PathFor(blob->sha256));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "hello");
  Artifact a{0, run.id, "image", "samples/0.png", blob->sha256, blob->size_bytes, 0, blob->uri};
  ASSERT_TRUE(artifacts_->AddArtifact(a).ok());
  EXPECT_EQ(artifacts_->AddArtifact(a).status().code(), absl::StatusCode::kAlreadyExists);
  auto list = artifacts_->ListArtifacts(run.id);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].size_bytes, 5);
  EXPECT_EQ(blobs.PutFile("/no/such/file").status().code(), absl::StatusCode::kNotFound);
  const std::string source = TempPath("source.bin");
  std::ofstream(source) << "hello";
  auto from_file = blobs.PutFile(source);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->sha256, blob->sha256);  // same content, same blob
  EXPECT_EQ(from_file->size_bytes, 5);
}

}  // namespace
}  // namespace dreamshot::experiments

// A/B image pairs: two artifacts of one run.
#include "experiments/pair_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "experiments/artifact_store.h"
#include "experiments/store_test_util.h"

namespace dreamshot::experiments {
namespace {

using ::testing::HasSubstr;

class PairStoreTest : public StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    artifacts_ = std::make_unique<ArtifactStore>(store_->database());
    pairs_ = std::make_unique<PairStore>(store_->database());
  }

  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<PairStore> pairs_;
};

TEST_F(PairStoreTest, ImagePairsLinkTwoArtifactsOfTheirRun) {
  experiments::Run run = NewRunWith({});
  experiments::Run other = NewRunWith({});
  auto add = [&](int64_t run_id, const std::string& path) {
    Artifact a{0, run_id, "image", path, std::string(64, 'a'), 1, 0, "file:///x"};
    return artifacts_->AddArtifact(a)->id;
  };
  const int64_t a = add(run.id, "a/0.png"), b = add(run.id, "b/0.png"), foreign = add(other.id, "b/0.png");
  // A seed above 2^63 keeps its bits through SQLite's signed integers.
  ImagePair pair{0, run.id, "close shot of a man", "close", 0xF000000000000001ull, "baseline", "finetuned", a, b, 0};
  auto stored = pairs_->AddImagePair(pair);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->id, 0);
  EXPECT_GT(stored->created_ms, 0);
  auto list = pairs_->ListImagePairs(run.id);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].seed, 0xF000000000000001ull);
  EXPECT_EQ((*list)[0].prompt, "close shot of a man");
  EXPECT_EQ((*list)[0].shot_type, "close");
  EXPECT_EQ((*list)[0].label_b, "finetuned");
  EXPECT_EQ((*list)[0].artifact_b, b);

  ImagePair bad = pair;
  bad.artifact_b = foreign;
  auto refused = pairs_->AddImagePair(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("belongs to run"));
  bad.artifact_b = 999999;
  EXPECT_EQ(pairs_->AddImagePair(bad).status().code(), absl::StatusCode::kNotFound);
  bad = pair;
  bad.label_b = "baseline";
  EXPECT_EQ(pairs_->AddImagePair(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = pair;
  bad.run_id = 424242;
  EXPECT_EQ(pairs_->AddImagePair(bad).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pairs_->ListImagePairs(run.id)->size(), 1u);  // nothing else was stored
  EXPECT_TRUE(pairs_->ListImagePairs(other.id)->empty());
}

}  // namespace
}  // namespace dreamshot::experiments

// Pool selection by split and shot scale, the errors that name what the
// pool holds, and the image-set fingerprint.
#include "trainer/pool_images.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "experiments/store.h"

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid());
}

class PoolImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::remove((dir_ + ".db").c_str());
    auto store = experiments::ExperimentStore::Open(dir_ + ".db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    datasets_ = std::make_unique<experiments::DatasetStore>(store_->database());
    artifacts_ = std::make_unique<experiments::ArtifactStore>(store_->database());
    auto e = store_->CreateExperiment("pool", "", {});
    ASSERT_TRUE(e.ok()) << e.status();
    experiments::NewRun r;
    r.experiment_id = e->id;
    r.name = "build";
    auto run = store_->CreateRun(r);
    ASSERT_TRUE(run.ok()) << run.status();
    run_id_ = run->id;

    // Four shots: close, long, close (no image is impossible through a
    // build; every item gets one), medium; the third is dropped.
    std::vector<experiments::DatasetItem> items;
    std::vector<experiments::DatasetItemImage> images;
    const char* scales[] = {"close", "long", "close", "medium"};
    for (int i = 0; i < 4; ++i) {
      experiments::DatasetItem d;
      d.source = "/films/a.mp4";
      d.shot_index = i;
      d.scale = scales[i];
      d.caption = "shot " + std::to_string(i);
      items.push_back(d);
      const std::string file = dir_ + "-shot" + std::to_string(i) + ".png";
      std::ofstream(file) << "png bytes " << i;
      experiments::DatasetItemImage image;
      image.item = i;
      image.artifact.kind = "dataset_image";
      image.artifact.path = "images/shot-" + std::to_string(i) + ".png";
      image.artifact.sha256 = std::string(63, '0') + std::to_string(i);
      image.artifact.size_bytes = 11;
      image.artifact.uri = "file://" + file;
      images.push_back(image);
    }
    experiments::DatasetSource source;
    source.source = "/films/a.mp4";
    source.status = "done";
    source.shots = 4;
    ASSERT_TRUE(datasets_->CommitDatasetSource(run_id_, source, items, images).ok());
    auto stored = datasets_->ListDatasetItems(run_id_);
    ASSERT_TRUE(stored.ok());
    ids_.clear();
    for (const auto& item : *stored) ids_.push_back(item.id);
    ASSERT_TRUE(datasets_->SetDatasetDrops(run_id_, {{ids_[2], false, "[]"}}).ok());
    ASSERT_TRUE(datasets_->CreateDatasetSplits(run_id_, {{"train", {ids_[3], ids_[0], ids_[2], ids_[1]}},
                                                          {"eval", {ids_[1]}}})
                    .ok());
  }

  std::string dir_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<experiments::DatasetStore> datasets_;
  std::unique_ptr<experiments::ArtifactStore> artifacts_;
  int64_t run_id_ = 0;
  std::vector<int64_t> ids_;
};

TEST_F(PoolImagesTest, SelectsKeptItemsOfTheScaleInSplitOrder) {
  auto close = ListPoolImages(*datasets_, *artifacts_, {run_id_, "train", "close"});
  ASSERT_TRUE(close.ok()) << close.status();
  ASSERT_EQ(close->size(), 1u);  // the other close shot was dropped
  EXPECT_EQ((*close)[0].caption, "shot 0");
  EXPECT_EQ((*close)[0].path, dir_ + "-shot0.png");

  auto all = ListPoolImages(*datasets_, *artifacts_, {run_id_, "train", ""});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].caption, "shot 3");  // the split's order
  EXPECT_EQ((*all)[1].caption, "shot 0");
  EXPECT_EQ((*all)[2].caption, "shot 1");

  auto whole_pool = ListPoolImages(*datasets_, *artifacts_, {run_id_, "", "long"});
  ASSERT_TRUE(whole_pool.ok()) << whole_pool.status();
  EXPECT_EQ(whole_pool->size(), 1u);
}

TEST_F(PoolImagesTest, EmptySelectionSaysWhatTheSplitHolds) {
  auto none = ListPoolImages(*datasets_, *artifacts_, {run_id_, "eval", "close"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("split 'eval' has no kept item of scale 'close'"));
  EXPECT_THAT(none.status().message(), HasSubstr("1 long"));

  EXPECT_EQ(ListPoolImages(*datasets_, *artifacts_, {run_id_, "test", ""}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ListPoolImages(*datasets_, *artifacts_, {run_id_ + 100, "", ""}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PoolImagesTest, FingerprintFollowsBytesCaptionsAndOrder) {
  auto all = ListPoolImages(*datasets_, *artifacts_, {run_id_, "train", ""});
  ASSERT_TRUE(all.ok());
  auto a = ImageSetSha256(*all);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(*ImageSetSha256(*all), *a);

  std::vector<CaptionedImage> recaptioned = *all;
  recaptioned[0].caption += " ";
  EXPECT_NE(*ImageSetSha256(recaptioned), *a);
  std::vector<CaptionedImage> reordered = {(*all)[1], (*all)[0], (*all)[2]};
  EXPECT_NE(*ImageSetSha256(reordered), *a);
  std::vector<CaptionedImage> missing = *all;
  missing[0].path += ".gone";
  EXPECT_EQ(ImageSetSha256(missing).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::trainer

// The dataset pool store, and what a resumable pool build needs of the run
// store: reopening its run, images committed with a source's items, the
// dedup pass's drop state, labels, captions and splits.
#include "experiments/dataset_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>

#include "experiments/artifact_store.h"
#include "experiments/pair_store.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid()) + ".db";
}

DatasetItem Shot(const std::string& source, int64_t index) {
  DatasetItem d;
  d.source = source;
  d.shot_index = index;
  d.start_frame = index * 100;
  d.end_frame = index * 100 + 99;
  d.keyframe = index * 100 + 50;
  return d;
}

DatasetItemImage Image(size_t item, const std::string& path, const std::string& sha = "ab") {
  DatasetItemImage image;
  image.item = item;
  image.artifact.kind = "dataset_image";
  image.artifact.path = path;
  image.artifact.sha256 = sha;
  image.artifact.size_bytes = 1234;
  image.artifact.uri = "blob://" + sha;
  return image;
}

class DatasetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::remove(path_.c_str());
    auto store = ExperimentStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto e = store_->CreateExperiment("pool", "", {});
    ASSERT_TRUE(e.ok()) << e.status();
    experiment_id_ = e->id;
    datasets_ = std::make_unique<DatasetStore>(store_->database());
    artifacts_ = std::make_unique<ArtifactStore>(store_->database());
    pairs_ = std::make_unique<PairStore>(store_->database());
  }

  experiments::Run NewRunning(const std::string& notes = "") {
    NewRun r;
    r.experiment_id = experiment_id_;
    r.name = "build";
    r.notes = notes;
    r.tags = {{"dreamshot.kind", "dataset"}};  // a build the server ran
    auto run = store_->CreateRun(r);
    EXPECT_TRUE(run.ok()) << run.status();
    return *run;
  }

  std::vector<DatasetItem> Items(int64_t run_id) {
    auto items = datasets_->ListDatasetItems(run_id);
    EXPECT_TRUE(items.ok()) << items.status();
    return items.ok() ? *items : std::vector<DatasetItem>{};
  }

  std::vector<Artifact> Artifacts(int64_t run_id) {
    auto artifacts = artifacts_->ListArtifacts(run_id);
    EXPECT_TRUE(artifacts.ok()) << artifacts.status();
    return artifacts.ok() ? *artifacts : std::vector<Artifact>{};
  }

  std::set<std::string> SourceNames(int64_t run_id) {
    std::set<std::string> out;
    auto sources = datasets_->ListDatasetSources(run_id);
    EXPECT_TRUE(sources.ok()) << sources.status();
    if (sources.ok()) {
      for (const DatasetSource& s : *sources) out.insert(s.source);
    }
    return out;
  }

  std::string path_;
  std::unique_ptr<ExperimentStore> store_;
  std::unique_ptr<DatasetStore> datasets_;
  std::unique_ptr<ArtifactStore> artifacts_;  // items' images
  std::unique_ptr<PairStore> pairs_;          // pairs that pin a source's images
  int64_t experiment_id_ = 0;
};

TEST_F(DatasetStoreTest, ReopenRunFromEndedStatesKeepsStartClearsEndAppendsNotes) {
  for (RunStatus ended : {RunStatus::kFailed, RunStatus::kCancelled, RunStatus::kFinished}) {
    SCOPED_TRACE(RunStatusName(ended));
    const experiments::Run run = NewRunning();
    ASSERT_TRUE(run.start_ms.has_value());
    auto done = store_->UpdateRun(run.id, {ended, std::nullopt, std::nullopt});
    ASSERT_TRUE(done.ok()) << done.status();
    ASSERT_TRUE(done->end_ms.has_value());
    // UpdateRun still refuses to move it back.
    EXPECT_EQ(store_->UpdateRun(run.id, {RunStatus::kRunning, std::nullopt, std::nullopt}).status().code(),
              absl::StatusCode::kFailedPrecondition);

    const uint64_t version = store_->ChangeVersion();
    auto reopened = store_->ReopenRun(run.id, "resumed at source 3");
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_GT(store_->ChangeVersion(), version);
    EXPECT_EQ(reopened->status, RunStatus::kRunning);
    EXPECT_EQ(reopened->start_ms, run.start_ms);
    EXPECT_FALSE(reopened->end_ms.has_value());
    EXPECT_EQ(reopened->notes, "resumed at source 3");  // no leading newline

    // A second round appends a line; the stored run agrees.
    ASSERT_TRUE(store_->UpdateRun(run.id, {ended, std::nullopt, std::nullopt}).ok());
    ASSERT_TRUE(store_->ReopenRun(run.id, "resumed again").ok());
    auto stored = store_->GetRun(run.id);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->status, RunStatus::kRunning);
    EXPECT_EQ(stored->start_ms, run.start_ms);
    EXPECT_FALSE(stored->end_ms.has_value());
    EXPECT_EQ(stored->notes, "resumed at source 3\nresumed again");
  }
}

TEST_F(DatasetStoreTest, ReopenRunAppendsToExistingNotesAndTakesOverARunningRun) {
  // A server that died left the run running; its successor failed it (or
  // not) — either way the resumed build continues it.
  const experiments::Run run = NewRunning("built from films/");
  auto reopened = store_->ReopenRun(run.id, "resumed after restart");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->status, RunStatus::kRunning);
  EXPECT_EQ(reopened->start_ms, run.start_ms);
  EXPECT_EQ(reopened->notes, "built from films/\nresumed after restart");

  auto failed = store_->FailInterruptedRuns("server restarted");
  ASSERT_TRUE(failed.ok());
  const int64_t interrupted_ms = *store_->GetRun(run.id)->end_ms;
  reopened = store_->ReopenRun(run.id, "resumed");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->notes, "built from films/\nresumed after restart\nfound interrupted at " + NoteTime(interrupted_ms) +
                                 " (server restarted)\nresumed");
  EXPECT_FALSE(reopened->end_ms.has_value());
}

TEST_F(DatasetStoreTest, ReopenMissingRunIsNotFound) {
  auto missing = store_->ReopenRun(424242, "resumed");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("424242"));
}

TEST_F(DatasetStoreTest, CommitWithImagesRecordsArtifactsLinkedFromItems) {
  const experiments::Run run = NewRunning();
  DatasetItem preset = Shot("a.mkv", 2);
  preset.image_artifact = 987654;  // overridden by the image
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"a.mkv", "done", "", 3, 300, 0},
                                        {Shot("a.mkv", 0), Shot("a.mkv", 1), preset},
                                        {Image(2, "pool/a.mkv/2.png", "c2"), Image(0, "pool/a.mkv/0.png", "c0")})
                  .ok());
  const std::vector<Artifact> artifacts = Artifacts(run.id);
  ASSERT_EQ(artifacts.size(), 2u);
  EXPECT_EQ(artifacts[0].path, "pool/a.mkv/0.png");
  EXPECT_EQ(artifacts[0].sha256, "c0");
  EXPECT_EQ(artifacts[0].kind, "dataset_image");
  EXPECT_EQ(artifacts[0].size_bytes, 1234);
  EXPECT_EQ(artifacts[0].uri, "blob://c0");
  EXPECT_EQ(artifacts[0].run_id, run.id);
  EXPECT_GT(artifacts[0].created_ms, 0);
  EXPECT_EQ(artifacts[1].path, "pool/a.mkv/2.png");

  const std::vector<DatasetItem> items = Items(run.id);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].image_artifact, artifacts[0].id);
  EXPECT_FALSE(items[1].image_artifact.has_value());
  EXPECT_EQ(items[2].image_artifact, artifacts[1].id);
}

TEST_F(DatasetStoreTest, RecommittingASourceReplacesItsItemsAndImages) {
  const experiments::Run run = NewRunning();
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"b.mkv", "done", "", 1, 100, 0}, {Shot("b.mkv", 0)},
                                        {Image(0, "pool/b.mkv/0.png", "b0")})
                  .ok());
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"a.mkv", "done", "", 2, 200, 0}, {Shot("a.mkv", 0), Shot("a.mkv", 1)},
                                        {Image(0, "pool/a.mkv/0.png", "old0"), Image(1, "pool/a.mkv/1.png", "old1")})
                  .ok());
  // The resumed build redoes a.mkv with the same paths: no ALREADY_EXISTS.
  absl::Status again =
      datasets_->CommitDatasetSource(run.id, {"a.mkv", "done", "", 2, 200, 0}, {Shot("a.mkv", 0), Shot("a.mkv", 1)},
                                     {Image(0, "pool/a.mkv/0.png", "new0"), Image(1, "pool/a.mkv/1.png", "new1")});
  ASSERT_TRUE(again.ok()) << again;
  std::vector<Artifact> artifacts = Artifacts(run.id);
  ASSERT_EQ(artifacts.size(), 3u);
  EXPECT_EQ(artifacts[0].sha256, "new0");
  EXPECT_EQ(artifacts[1].sha256, "new1");
  EXPECT_EQ(artifacts[2].sha256, "b0");  // another source's image stays
  std::vector<DatasetItem> items = Items(run.id);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].image_artifact, artifacts[0].id);
  EXPECT_EQ(items[1].image_artifact, artifacts[1].id);
  EXPECT_EQ(items[2].image_artifact, artifacts[2].id);

  // Redone without images (say the crops failed): the old images go too.
  ASSERT_TRUE(datasets_->CommitDatasetSource(run.id, {"a.mkv", "done", "", 1, 200, 0}, {Shot("a.mkv", 0)}).ok());
  artifacts = Artifacts(run.id);
  ASSERT_EQ(artifacts.size(), 1u);
  EXPECT_EQ(artifacts[0].path, "pool/b.mkv/0.png");
  items = Items(run.id);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_FALSE(items[0].image_artifact.has_value());
}

TEST_F(DatasetStoreTest, ImagePathCollisionRollsBackTheWholeSource) {
  const experiments::Run run = NewRunning();
  Artifact checkpoint;
  checkpoint.run_id = run.id;
  checkpoint.kind = "other";
  checkpoint.path = "pool/c.mkv/1.png";
  checkpoint.sha256 = "zz";
  auto added = artifacts_->AddArtifact(checkpoint);
  ASSERT_TRUE(added.ok()) << added.status();

  absl::Status collide =
      datasets_->CommitDatasetSource(run.id, {"c.mkv", "done", "", 2, 200, 0}, {Shot("c.mkv", 0), Shot("c.mkv", 1)},
                                     {Image(0, "pool/c.mkv/0.png"), Image(1, "pool/c.mkv/1.png")});
  EXPECT_EQ(collide.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(collide.message()), HasSubstr("pool/c.mkv/1.png"));
  EXPECT_TRUE(Items(run.id).empty());
  EXPECT_TRUE(SourceNames(run.id).empty());
  std::vector<Artifact> artifacts = Artifacts(run.id);
  ASSERT_EQ(artifacts.size(), 1u);
  EXPECT_EQ(artifacts[0].id, added->id);

  // A recommit that collides leaves the earlier commit of the source intact.
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"d.mkv", "done", "", 1, 100, 0}, {Shot("d.mkv", 0)},
                                        {Image(0, "pool/d.mkv/0.png", "d0")})
                  .ok());
  const std::vector<DatasetItem> before = Items(run.id);
  ASSERT_EQ(before.size(), 1u);
  collide =
      datasets_->CommitDatasetSource(run.id, {"d.mkv", "done", "", 2, 100, 0}, {Shot("d.mkv", 0), Shot("d.mkv", 1)},
                                     {Image(0, "pool/d.mkv/0.png"), Image(1, "pool/c.mkv/1.png")});
  EXPECT_EQ(collide.code(), absl::StatusCode::kAlreadyExists);
  const std::vector<DatasetItem> after = Items(run.id);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, before[0].id);
  EXPECT_EQ(after[0].image_artifact, before[0].image_artifact);
  artifacts = Artifacts(run.id);
  ASSERT_EQ(artifacts.size(), 2u);
  EXPECT_EQ(artifacts[1].sha256, "d0");
  auto sources = datasets_->ListDatasetSources(run.id);
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].shots, 1);
}

TEST_F(DatasetStoreTest, BadImagesAreInvalidArgumentAndCommitNothing) {
  const experiments::Run run = NewRunning();
  const experiments::Run other = NewRunning();
  const std::vector<DatasetItem> items = {Shot("e.mkv", 0), Shot("e.mkv", 1)};
  const DatasetSource source{"e.mkv", "done", "", 2, 200, 0};
  struct Case {
    const char* name;
    std::vector<DatasetItemImage> images;
    const char* message;
  };
  DatasetItemImage no_path = Image(0, "");
  DatasetItemImage long_path = Image(0, std::string(1025, 'p'));
  DatasetItemImage no_kind = Image(0, "pool/e/0.png");
  no_kind.artifact.kind = "";
  DatasetItemImage long_kind = Image(0, "pool/e/0.png");
  long_kind.artifact.kind = std::string(251, 'k');
  DatasetItemImage foreign = Image(0, "pool/e/0.png");
  foreign.artifact.run_id = other.id;
  const std::vector<Case> cases = {
      {"index out of range", {Image(0, "pool/e/0.png"), Image(2, "pool/e/2.png")}, "item 2"},
      {"two images for one item", {Image(1, "pool/e/1.png"), Image(1, "pool/e/1b.png")}, "two images"},
      {"empty path", {no_path}, "path"},
      {"path too long", {long_path}, "path"},
      {"empty kind", {no_kind}, "kind"},
      {"kind too long", {long_kind}, "kind"},
      {"other run", {foreign}, "run"},
      {"shared path", {Image(0, "pool/e/x.png"), Image(1, "pool/e/x.png")}, "pool/e/x.png"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status status = datasets_->CommitDatasetSource(run.id, source, items, c.images);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
  }
  EXPECT_TRUE(Items(run.id).empty());
  EXPECT_TRUE(Artifacts(run.id).empty());
  EXPECT_TRUE(SourceNames(run.id).empty());

  // artifact.run_id equal to the run is accepted.
  DatasetItemImage own = Image(1, "pool/e/1.png");
  own.artifact.run_id = run.id;
  EXPECT_TRUE(datasets_->CommitDatasetSource(run.id, source, items, {own}).ok());
}

TEST_F(DatasetStoreTest, RecommitOfASourceInASplitFailsAndChangesNothing) {
  const experiments::Run run = NewRunning();
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"f.mkv", "done", "", 2, 200, 0}, {Shot("f.mkv", 0), Shot("f.mkv", 1)},
                                        {Image(0, "pool/f.mkv/0.png", "f0")})
                  .ok());
  const std::vector<DatasetItem> before = Items(run.id);
  ASSERT_EQ(before.size(), 2u);
  ASSERT_TRUE(datasets_->CreateDatasetSplits(run.id, {{"train/close", {before[1].id}}}).ok());

  absl::Status again = datasets_->CommitDatasetSource(run.id, {"f.mkv", "failed", "redo", 0, 0, 0}, {Shot("f.mkv", 0)},
                                                      {Image(0, "pool/f.mkv/0.png", "f0-new")});
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("source f.mkv has items in split 'train/close'"));

  const std::vector<DatasetItem> after = Items(run.id);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].id, before[0].id);
  EXPECT_EQ(after[1].id, before[1].id);
  EXPECT_EQ(after[0].image_artifact, before[0].image_artifact);
  const std::vector<Artifact> artifacts = Artifacts(run.id);
  ASSERT_EQ(artifacts.size(), 1u);
  EXPECT_EQ(artifacts[0].sha256, "f0");
  auto sources = datasets_->ListDatasetSources(run.id);
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].status, "done");
  EXPECT_EQ(datasets_->GetDatasetSplit(run.id, "train/close").value(), (std::vector<int64_t>{before[1].id}));
}

TEST_F(DatasetStoreTest, RecommitOfASourceWhoseImageIsInAnImagePairFails) {
  const experiments::Run run = NewRunning();
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"g.mkv", "done", "", 1, 100, 0}, {Shot("g.mkv", 0)},
                                        {Image(0, "pool/g.mkv/0.png", "g0")})
                  .ok());
  Artifact b;
  b.run_id = run.id;
  b.kind = "image";
  b.path = "gen/0.png";
  b.sha256 = "gen0";
  auto added = artifacts_->AddArtifact(b);
  ASSERT_TRUE(added.ok()) << added.status();
  ImagePair pair;
  pair.run_id = run.id;
  pair.prompt = "a close shot";
  pair.label_a = "pool";
  pair.label_b = "lora";
  pair.artifact_a = *Items(run.id)[0].image_artifact;
  pair.artifact_b = added->id;
  ASSERT_TRUE(pairs_->AddImagePair(pair).ok());

  absl::Status again = datasets_->CommitDatasetSource(run.id, {"g.mkv", "done", "", 1, 100, 0}, {Shot("g.mkv", 0)},
                                                      {Image(0, "pool/g.mkv/0.png", "g0-new")});
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("pool/g.mkv/0.png"));
  EXPECT_EQ(Artifacts(run.id).size(), 2u);
  EXPECT_EQ(Items(run.id)[0].image_artifact, pair.artifact_a);
}

TEST_F(DatasetStoreTest, SetDatasetDropsIsAllOrNothing) {
  const experiments::Run run = NewRunning();
  const experiments::Run other = NewRunning();
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"h.mkv", "done", "", 3, 300, 0},
                                        {Shot("h.mkv", 0), Shot("h.mkv", 1), Shot("h.mkv", 2)})
                  .ok());
  ASSERT_TRUE(datasets_->CommitDatasetSource(other.id, {"h.mkv", "done", "", 1, 100, 0}, {Shot("h.mkv", 0)}).ok());
  const std::vector<DatasetItem> items = Items(run.id);
  ASSERT_EQ(items.size(), 3u);
  const int64_t foreign_item = Items(other.id)[0].id;
  const std::string dup = R"([{"filter":"dedup","detail":"phash distance 3 to item 1"}])";

  ASSERT_TRUE(datasets_->SetDatasetDrops(run.id, {{items[1].id, false, dup}, {items[2].id, true, "[]"}}).ok());
  std::vector<DatasetItem> now = Items(run.id);
  EXPECT_TRUE(now[0].kept);
  EXPECT_FALSE(now[1].kept);
  EXPECT_EQ(now[1].drop_reasons_json, dup);
  EXPECT_TRUE(now[2].kept);
  auto kept = datasets_->ListDatasetItems(run.id, /*kept_only=*/true);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 2u);

  // An unknown item (or one of another run) changes nothing.
  for (int64_t missing : {int64_t{999999}, foreign_item}) {
    absl::Status status = datasets_->SetDatasetDrops(run.id, {{items[0].id, false, dup}, {missing, false, dup}});
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(std::to_string(missing)));
    EXPECT_TRUE(Items(run.id)[0].kept);
  }
  EXPECT_TRUE(Items(other.id)[0].kept);

  // drop_reasons_json must be a JSON array.
  for (const char* bad : {"[{\"filter\":", "{\"filter\":\"blur\"}", "", "\"blur\""}) {
    SCOPED_TRACE(bad);
    absl::Status status = datasets_->SetDatasetDrops(run.id, {{items[0].id, false, "[]"}, {items[2].id, false, bad}});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(std::to_string(items[2].id)));
  }
  now = Items(run.id);
  EXPECT_TRUE(now[0].kept);
  EXPECT_TRUE(now[2].kept);

  EXPECT_EQ(datasets_->SetDatasetDrops(424242, {}).code(), absl::StatusCode::kNotFound);
}

TEST_F(DatasetStoreTest, DatasetPoolsCommitPerSourceLabelAndSplit) {
  experiments::Run run = NewRunning();
  auto shot = [](const std::string& source, int64_t index, bool kept) {
    DatasetItem d;
    d.source = source;
    d.shot_index = index;
    d.start_frame = index * 100;
    d.end_frame = index * 100 + 99;
    d.end_s = 4.1;
    d.keyframe = index * 100 + 50;
    d.kept = kept;
    d.phash = 0x8000000000000001ull;  // the top bit survives SQLite's signed integers
    if (!kept) d.drop_reasons_json = R"([{"filter":"blur","detail":"variance of Laplacian 12 < 60"}])";
    return d;
  };
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"a.mkv", "done", "", 3, 300, 0},
                                        {shot("a.mkv", 0, true), shot("a.mkv", 1, false), shot("a.mkv", 2, true)})
                  .ok());
  ASSERT_TRUE(datasets_->CommitDatasetSource(run.id, {"broken.avi", "failed", "cannot decode", 0, 0, 0}, {}).ok());
  // A resumed build that redoes a source replaces its items.
  ASSERT_TRUE(datasets_
                  ->CommitDatasetSource(run.id, {"a.mkv", "done", "", 3, 300, 0},
                                        {shot("a.mkv", 0, true), shot("a.mkv", 1, false), shot("a.mkv", 2, true)})
                  .ok());
  auto items = datasets_->ListDatasetItems(run.id);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].phash, 0x8000000000000001ull);
  EXPECT_FALSE((*items)[1].kept);
  EXPECT_THAT((*items)[1].drop_reasons_json, HasSubstr("blur"));
  EXPECT_EQ(datasets_->ListDatasetItems(run.id, /*kept_only=*/true)->size(), 2u);
  auto sources = datasets_->ListDatasetSources(run.id);
  ASSERT_EQ(sources->size(), 2u);
  EXPECT_EQ((*sources)[1].status, "failed");
  EXPECT_EQ((*sources)[1].detail, "cannot decode");

  const int64_t first = (*items)[0].id, third = (*items)[2].id;
  ASSERT_TRUE(
      datasets_->SetDatasetLabels(run.id, {{first, "close", "CS", 0.8, "faces", "face 0.31 of frame height"}}).ok());
  // All or nothing: an unknown item changes nothing.
  EXPECT_EQ(
      datasets_->SetDatasetLabels(run.id, {{third, "long", "LS", 0.5, "people", ""}, {999999, "long", "", 0, "", ""}})
          .code(),
      absl::StatusCode::kNotFound);
  ASSERT_TRUE(datasets_->SetDatasetCaptions(run.id, {{first, "a man looks at the sea", "captions.jsonl"}}).ok());
  items = datasets_->ListDatasetItems(run.id);
  EXPECT_EQ((*items)[0].scale, "close");
  EXPECT_EQ((*items)[0].fine_scale, "CS");
  EXPECT_EQ((*items)[0].caption, "a man looks at the sea");
  EXPECT_EQ((*items)[2].scale, "unknown");

  ASSERT_TRUE(datasets_->CreateDatasetSplits(run.id, {{"train/close", {third, first}}}).ok());
  // Together or not at all: "eval" is not created when "train/close" exists.
  EXPECT_EQ(datasets_->CreateDatasetSplits(run.id, {{"eval", {third}}, {"train/close", {first}}}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(datasets_->CreateDatasetSplits(run.id, {{"eval", {first, first}}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(datasets_->GetDatasetSplit(run.id, "train/close").value(), (std::vector<int64_t>{third, first}));
  EXPECT_EQ(datasets_->GetDatasetSplit(run.id, "eval").status().code(), absl::StatusCode::kNotFound);
  auto splits = datasets_->ListDatasetSplits(run.id);
  ASSERT_EQ(splits->size(), 1u);
  EXPECT_EQ(splits->at("train/close"), 2);
}

}  // namespace
}  // namespace dreamshot::experiments

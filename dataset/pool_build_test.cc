// BuildPool end to end on small real inputs: a video cut together from
// OpenCV's sample photos (known cuts), a byte-identical copy of it (every
// shot a near-duplicate), stills in 8 and 16 bits, and files that are not
// media. Then a cancelled build resumed, a parallel build against a serial
// one, and a disk error.
#include "dataset/pool_build.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <tuple>

#include "core/png.h"
#include "dataset/filters/test_images.h"
#include "dataset/pool_item.h"
#include "dataset/shots/test_video.h"
#include "experiments/artifact_store.h"
#include "experiments/dataset_store.h"
#include "experiments/store.h"

namespace dreamshot::dataset {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kShotFrames = 20;

// Each photo held for kShotFrames frames while the camera pans a pixel a
// frame: cuts at 20, 40, ...
absl::Status WritePhotoVideo(const std::string& path, const std::vector<std::string>& photos) {
  std::vector<cv::Mat> frames;
  for (const std::string& name : photos) {
    absl::StatusOr<cv::Mat> photo = filters::testing::LoadSample(name);
    if (!photo.ok()) return photo.status();
    cv::Mat big;
    cv::resize(*photo, big, cv::Size(680, 520), 0, 0, cv::INTER_AREA);
    for (int t = 0; t < kShotFrames; ++t) frames.push_back(big(cv::Rect(t, t / 2, 640, 480)).clone());
  }
  return shots::synthetic::WriteVideo(path, frames, 24);
}

struct ItemKey {
  std::string source;
  int64_t shot;
  bool kept;
  std::optional<uint64_t> phash;
  std::string reasons;
  bool operator<(const ItemKey& o) const {
    return std::tie(source, shot, kept, phash, reasons) < std::tie(o.source, o.shot, o.kept, o.phash, o.reasons);
  }
  bool operator==(const ItemKey& o) const { return !(*this < o) && !(o < *this); }
};

// Faces only: these tests are about resuming and ordering, and the body
// detectors cost most of a build's time on these frames.
PoolBuildOptions FacesOnly() {
  PoolBuildOptions options;
  options.people.hog_people = false;
  options.people.upper_body_cascade = "";
  options.people.full_body_cascade = "";
  return options;
}

class PoolBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("pool_build_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "films");
    fs::create_directories(root_ / "stills");
    ASSERT_TRUE(
        WritePhotoVideo((root_ / "films" / "a.avi").string(), {"baboon.jpg", "fruits.jpg", "building.jpg"}).ok());
    fs::copy_file(root_ / "films" / "a.avi", root_ / "films" / "copy.avi");
    std::ofstream(root_ / "films" / "empty.mp4").close();
    std::ofstream(root_ / "films" / "garbage.avi") << std::string(5000, '\x42');
    auto messi = filters::testing::LoadSample("messi5.jpg");
    ASSERT_TRUE(messi.ok()) << messi.status();
    cv::Mat big;
    cv::resize(*messi, big, cv::Size(1096, 684), 0, 0, cv::INTER_LANCZOS4);
    ASSERT_TRUE(cv::imwrite((root_ / "stills" / "messi.png").string(), big));
    auto starry = filters::testing::LoadSample("starry_night.jpg");
    ASSERT_TRUE(starry.ok()) << starry.status();
    cv::Mat deep;
    starry->convertTo(deep, CV_16UC3, 257.0);
    ASSERT_TRUE(cv::imwrite((root_ / "stills" / "starry16.png").string(), deep));
    std::ofstream(root_ / "stills" / "notes.txt") << "not an image";

    auto store = experiments::ExperimentStore::Open((root_ / "store.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    datasets_ = std::make_unique<experiments::DatasetStore>(store_->database());
    artifacts_ = std::make_unique<experiments::ArtifactStore>(store_->database());
    auto experiment = store_->CreateExperiment("pools", "", {});
    ASSERT_TRUE(experiment.ok());
    experiment_id_ = experiment->id;
    blobs_ = std::make_unique<experiments::ArtifactBlobs>((root_ / "blobs").string());
    auto sources = ExpandSources({root_.string() + "/films", root_.string() + "/stills"});
    ASSERT_TRUE(sources.ok()) << sources.status();
    sources_ = sources->files;
  }

  int64_t NewRun() {
    experiments::NewRun run;
    run.experiment_id = experiment_id_;
    run.name = "pool";
    auto created = store_->CreateRun(run);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->id : 0;
  }

  std::vector<ItemKey> Items(int64_t run_id) {
    auto items = datasets_->ListDatasetItems(run_id);
    EXPECT_TRUE(items.ok()) << items.status();
    std::vector<ItemKey> keys;
    std::map<int64_t, std::string> source_of;  // item id → source, to make duplicate reasons run-independent
    for (const auto& d : *items) source_of[d.id] = d.source;
    for (const auto& d : *items) {
      auto reasons = ParseDropReasons(d.drop_reasons_json);
      EXPECT_TRUE(reasons.ok());
      std::string filters;
      for (const auto& r : *reasons) filters += r.filter + ";";
      keys.push_back({d.source, d.shot_index, d.kept, d.phash, filters});
    }
    return keys;
  }

  std::string Path(const std::string& relative) { return (root_ / relative).string(); }

  fs::path root_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<experiments::DatasetStore> datasets_;
  std::unique_ptr<experiments::ArtifactStore> artifacts_;  // the items' images
  std::unique_ptr<experiments::ArtifactBlobs> blobs_;
  int64_t experiment_id_ = 0;
  std::vector<SourceFile> sources_;
};

TEST_F(PoolBuildTest, BuildsAPoolFromVideosAndStillsAndReportsBadFiles) {
  const int64_t run = NewRun();
  std::vector<PoolBuildProgress> reports;
  core::CancelFlag cancel;
  PoolBuildOptions options;
  options.threads = 2;
  auto result = BuildPool(
      *datasets_, *blobs_, run, sources_, options, [&](const PoolBuildProgress& p) { reports.push_back(p); }, cancel);
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_EQ(result->sources_analysed, 6);
  EXPECT_EQ(result->sources_skipped, 0);
  EXPECT_EQ(result->sources_failed, 2);
  EXPECT_EQ(result->shots, 8);  // 3 + 3 shots, 2 stills
  EXPECT_EQ(result->frames, 2 * 3 * kShotFrames);
  EXPECT_EQ(result->dedup.duplicates, 3);

  auto sources = datasets_->ListDatasetSources(run);
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 6u);
  std::map<std::string, experiments::DatasetSource> by_path;
  for (const auto& s : *sources) by_path[s.source] = s;
  EXPECT_EQ(by_path[Path("films/a.avi")].status, "done");
  EXPECT_EQ(by_path[Path("films/a.avi")].shots, 3);
  EXPECT_EQ(by_path[Path("films/a.avi")].frames, 60);
  EXPECT_EQ(by_path[Path("films/empty.mp4")].status, "failed");
  EXPECT_THAT(by_path[Path("films/empty.mp4")].detail, HasSubstr("empty"));
  EXPECT_EQ(by_path[Path("films/garbage.avi")].status, "failed");
  EXPECT_THAT(by_path[Path("films/garbage.avi")].detail, HasSubstr("garbage.avi"));
  EXPECT_EQ(by_path[Path("stills/starry16.png")].status, "done");
  EXPECT_THAT(by_path[Path("stills/starry16.png")].detail, HasSubstr("16-bit"));

  auto items = datasets_->ListDatasetItems(run);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 8u);
  std::map<std::pair<std::string, int64_t>, experiments::DatasetItem> item;
  for (const auto& d : *items) item[{d.source, d.shot_index}] = d;
  auto artifacts = artifacts_->ListArtifacts(run);
  ASSERT_TRUE(artifacts.ok());
  std::map<int64_t, experiments::Artifact> artifact;
  for (const auto& a : *artifacts) artifact[a.id] = a;
  for (int64_t shot = 0; shot < 3; ++shot) {
    const auto& original = item[{Path("films/a.avi"), shot}];
    const auto& copy = item[{Path("films/copy.avi"), shot}];
    EXPECT_EQ(original.start_frame, shot * kShotFrames);
    EXPECT_EQ(original.end_frame, shot * kShotFrames + kShotFrames - 1);
    EXPECT_TRUE(original.kept) << original.drop_reasons_json;
    EXPECT_FALSE(copy.kept);
    EXPECT_THAT(copy.drop_reasons_json, HasSubstr("\"duplicate\""));
    EXPECT_THAT(copy.drop_reasons_json, HasSubstr("item " + std::to_string(original.id)));
    EXPECT_THAT(copy.detector_json, HasSubstr("\"threshold\""));
    // The copy's training image was stored before dedup dropped it.
    ASSERT_TRUE(original.image_artifact.has_value());
    const experiments::Artifact& a = artifact[*original.image_artifact];
    EXPECT_THAT(a.path, ::testing::MatchesRegex("pool/a-[0-9a-f]{8}/shot-000[0-2]\\.png"));
    std::ifstream in(a.uri.substr(std::string("file://").size()), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto png = core::DecodePng(bytes);
    ASSERT_TRUE(png.ok()) << png.status() << " " << a.uri;
    EXPECT_EQ(png->width, 512);
    EXPECT_EQ(png->height, 512);
    ASSERT_EQ(png->texts.size(), 1u);
    EXPECT_THAT(png->texts[0].second, HasSubstr(Path("films/a.avi")));
    // 640x480 frames: the centre 480x480 square.
    EXPECT_EQ(original.crop_width, 480);
    EXPECT_EQ(original.crop_x, 80);
  }
  const auto& messi = item[std::make_pair(Path("stills/messi.png"), int64_t{0})];
  EXPECT_TRUE(messi.kept) << messi.drop_reasons_json;
  EXPECT_FALSE(messi.scale_method.empty());

  EXPECT_EQ(result->summary.items, 8);
  EXPECT_EQ(result->summary.kept, 5);
  EXPECT_EQ(result->summary.drops.at("duplicate"), 3);
  EXPECT_EQ(result->summary.sources_failed, 2);
  EXPECT_EQ(result->summary.labels.total(), 5);

  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.front().sources_total, 6);
  EXPECT_EQ(reports.back().stage, "deduplicating");
  int finished = 0;
  for (const auto& r : reports) finished += r.finished.has_value() ? 1 : 0;
  EXPECT_EQ(finished, 6);
}

TEST_F(PoolBuildTest, ACancelledBuildResumesWithoutLosingOrDuplicatingItems) {
  const int64_t reference = NewRun();
  core::CancelFlag never;
  PoolBuildOptions options = FacesOnly();
  options.threads = 1;
  ASSERT_TRUE(BuildPool(*datasets_, *blobs_, reference, sources_, options, nullptr, never).ok());

  const int64_t run = NewRun();
  core::CancelFlag cancel;
  auto stopped = BuildPool(
      *datasets_, *blobs_, run, sources_, options,
      [&](const PoolBuildProgress& p) {
        if (p.finished) cancel.Cancel();
      },
      cancel);
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled) << stopped.status();
  auto recorded = datasets_->ListDatasetSources(run);
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded->size(), 1u);

  core::CancelFlag go_on;
  auto resumed = BuildPool(*datasets_, *blobs_, run, sources_, options, nullptr, go_on);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->sources_skipped, 1);
  EXPECT_EQ(resumed->sources_analysed, 5);
  EXPECT_EQ(Items(run), Items(reference));
  EXPECT_EQ(resumed->summary.kept, 5);

  // Nothing left to do: a third pass analyses nothing and changes nothing.
  auto again = BuildPool(*datasets_, *blobs_, run, sources_, options, nullptr, go_on);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sources_analysed, 0);
  EXPECT_EQ(again->dedup.changed, 0);
  EXPECT_EQ(Items(run), Items(reference));
}

TEST_F(PoolBuildTest, ParallelAndSerialBuildsAgree) {
  core::CancelFlag never;
  PoolBuildOptions serial = FacesOnly();
  serial.threads = 1;
  PoolBuildOptions parallel = FacesOnly();
  parallel.threads = 3;
  const int64_t a = NewRun(), b = NewRun();
  ASSERT_TRUE(BuildPool(*datasets_, *blobs_, a, sources_, serial, nullptr, never).ok());
  ASSERT_TRUE(BuildPool(*datasets_, *blobs_, b, sources_, parallel, nullptr, never).ok());
  EXPECT_EQ(Items(a), Items(b));
}

TEST_F(PoolBuildTest, FailedSourcesAreRetriedOnlyWhenAsked) {
  core::CancelFlag never;
  PoolBuildOptions options = FacesOnly();
  const int64_t run = NewRun();
  ASSERT_TRUE(BuildPool(*datasets_, *blobs_, run, sources_, options, nullptr, never).ok());
  options.retry_failed = true;
  auto retried = BuildPool(*datasets_, *blobs_, run, sources_, options, nullptr, never);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->sources_analysed, 2);
  EXPECT_EQ(retried->sources_failed, 2);
}

TEST_F(PoolBuildTest, ADiskErrorStopsTheBuildWithoutRecordingTheSource) {
  std::ofstream(root_ / "not_a_folder") << "x";
  experiments::ArtifactBlobs broken((root_ / "not_a_folder").string());
  core::CancelFlag never;
  const int64_t run = NewRun();
  auto result = BuildPool(*datasets_, broken, run, {{Path("films/a.avi"), false}}, {}, nullptr, never);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().code(), absl::StatusCode::kCancelled);
  auto recorded = datasets_->ListDatasetSources(run);
  ASSERT_TRUE(recorded.ok());
  EXPECT_TRUE(recorded->empty());
}

TEST_F(PoolBuildTest, AMissingDetectorModelFailsBeforeAnyWork) {
  core::CancelFlag never;
  PoolBuildOptions options;
  options.people.yunet_model = Path("missing.onnx");
  const int64_t run = NewRun();
  auto result = BuildPool(*datasets_, *blobs_, run, sources_, options, nullptr, never);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("missing.onnx"));
  EXPECT_TRUE(datasets_->ListDatasetSources(run)->empty());
}

}  // namespace
}  // namespace dreamshot::dataset

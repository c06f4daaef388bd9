// Throughput of `dreamshot dataset build`: shots/s, source frames/s and the
// real-time factor (frames/s / the video's fps) of dataset::BuildPool, from
// the files to the committed pool (shot detection, keyframes, filters,
// people detection + shot scale, training PNGs, store rows, dedup). Each
// iteration builds into a fresh run with a fresh blob folder (created with
// the timer paused), so nothing is resumed or already on disk.
//   BM_BuildPool/film:0  Megamind.avi (720x528 XVID, 270 frames, 4 shots,
//                        faces) twice, as two sources: threads 1 and 2.
//   BM_BuildPool/film:1  vtest.avi (768x576, 795 frames, pedestrians and no
//                        close face: the people detector's slow path).
//   BM_AnalyzeKeyframe   one 1080p keyframe (face / people without a face),
//   BM_DetectPeople      and the people detector alone on the same frame:
//                        where a build's time per shot goes.
// Stores, copies and blobs go to $TEST_TMPDIR or /tmp (removed at exit).
// Run with
//   bazel run -c opt //bench:pool_build_benchmark -- --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <vector>

#include "core/cancel_flag.h"
#include "dataset/keyframe_analysis.h"
#include "dataset/labels/people_detector.h"
#include "dataset/pool_build.h"
#include "dataset/sources.h"
#include "dataset/types.h"
#include "experiments/artifact_blobs.h"
#include "experiments/dataset_store.h"
#include "experiments/store.h"

namespace dreamshot::dataset {
namespace {

namespace fs = std::filesystem;

constexpr char kSamples[] = "/usr/share/doc/opencv-doc/examples/data/";

enum Film { kMegamindTwice, kVtest };
enum Frame { kPeopleNoFace, kFace };

// One store for every case, in a temp folder removed at exit.
struct Workspace {
  fs::path root;
  std::unique_ptr<experiments::ExperimentStore> store;
  int64_t experiment_id = 0;
};

Workspace* workspace = nullptr;  // never destroyed; its folder goes at exit

void RemoveWorkspace() {
  if (workspace != nullptr) {
    std::error_code ignored;
    fs::remove_all(workspace->root, ignored);
  }
}

absl::StatusOr<Workspace*> GetWorkspace() {
  if (workspace != nullptr) return workspace;
  const char* tmp = std::getenv("TEST_TMPDIR");
  auto ws = std::make_unique<Workspace>();
  ws->root = fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") /
             ("pool_build_benchmark_" + std::to_string(::getpid()));
  std::error_code error;
  fs::remove_all(ws->root, error);
  fs::create_directories(ws->root / "megamind", error);
  if (error) return absl::InternalError("cannot create " + ws->root.string() + ": " + error.message());
  // Two sources with the same pictures: the second one's shots all end up
  // near-duplicates, which the build finds in its dedup pass.
  for (const char* copy : {"a.avi", "b.avi"}) {
    fs::copy_file(std::string(kSamples) + "Megamind.avi", ws->root / "megamind" / copy, error);
    if (error) return absl::InternalError("cannot copy Megamind.avi: " + error.message());
  }
  auto store = experiments::ExperimentStore::Open((ws->root / "store.db").string());
  if (!store.ok()) return store.status();
  ws->store = std::move(*store);
  auto experiment = ws->store->CreateExperiment("pool_build_benchmark", "", {});
  if (!experiment.ok()) return experiment.status();
  ws->experiment_id = experiment->id;
  workspace = ws.release();
  std::atexit(RemoveWorkspace);
  return workspace;
}

double VideoFps(const std::string& path) {
  cv::VideoCapture capture(path);
  return capture.isOpened() ? capture.get(cv::CAP_PROP_FPS) : 0;
}

// state.range(0): Film, range(1): PoolBuildOptions::threads.
void BM_BuildPool(benchmark::State& state) {
  auto ws = GetWorkspace();
  if (!ws.ok()) {
    state.SkipWithError(ws.status().ToString().c_str());
    return;
  }
  const bool megamind = state.range(0) == kMegamindTwice;
  const std::string input = megamind ? ((*ws)->root / "megamind").string() : std::string(kSamples) + "vtest.avi";
  auto sources = ExpandSources({input});
  if (!sources.ok() || sources->files.empty()) {
    state.SkipWithError(("no sources in " + input).c_str());
    return;
  }
  const double fps = VideoFps(sources->files.front().path);
  if (fps <= 0) {
    state.SkipWithError(("cannot read the frame rate of " + sources->files.front().path).c_str());
    return;
  }
  PoolBuildOptions options;
  options.threads = static_cast<int>(state.range(1));
  core::CancelFlag never;
  experiments::ExperimentStore& store = *(*ws)->store;
  experiments::DatasetStore datasets(store.database());
  int64_t shots = 0, frames = 0, kept = 0;
  for (auto _ : state) {
    state.PauseTiming();
    experiments::NewRun new_run;
    new_run.experiment_id = (*ws)->experiment_id;
    new_run.name = "bench";
    auto run = store.CreateRun(new_run);
    if (!run.ok()) {
      state.SkipWithError(run.status().ToString().c_str());
      break;
    }
    const fs::path blob_dir = (*ws)->root / ("blobs-" + std::to_string(run->id));
    experiments::ArtifactBlobs blobs(blob_dir.string());
    state.ResumeTiming();

    auto result = BuildPool(datasets, blobs, run->id, sources->files, options, nullptr, never);

    state.PauseTiming();
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    if (result->sources_failed > 0 || result->sources_analysed != static_cast<int64_t>(sources->files.size())) {
      state.SkipWithError("a source failed or was skipped");
      break;
    }
    shots += result->shots;
    frames += result->frames;
    kept = result->summary.kept;  // after the near-duplicate pass
    std::error_code ignored;
    fs::remove_all(blob_dir, ignored);
    state.ResumeTiming();
  }
  state.counters["shots_per_s"] = benchmark::Counter(static_cast<double>(shots), benchmark::Counter::kIsRate);
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.counters["realtime_factor"] = benchmark::Counter(frames / fps, benchmark::Counter::kIsRate);
  state.counters["shots"] = state.iterations() > 0 ? static_cast<double>(shots) / state.iterations() : 0;
  state.counters["kept"] = static_cast<double>(kept);
}

// A 1920x1080 keyframe: the picture's centre 16:9 band, upscaled (bicubic).
cv::Mat Frame1080p(const cv::Mat& picture) {
  const int band = std::min(picture.rows, picture.cols * 9 / 16);
  const int width = std::min(picture.cols, band * 16 / 9);
  const cv::Mat centre = picture(cv::Rect((picture.cols - width) / 2, (picture.rows - band) / 2, width, band));
  cv::Mat frame;
  cv::resize(centre, frame, cv::Size(1920, 1080), 0, 0, cv::INTER_CUBIC);
  return frame;
}

// kPeopleNoFace: vtest.avi's frame 200 (pedestrians, no close face);
// kFace: messi5.jpg (a face, medium shot).
cv::Mat TestFrame(int which) {
  cv::Mat picture;
  if (which == kFace) {
    picture = cv::imread(std::string(kSamples) + "messi5.jpg");
  } else {
    cv::VideoCapture capture(std::string(kSamples) + "vtest.avi");
    capture.set(cv::CAP_PROP_POS_FRAMES, 200);
    capture.read(picture);
  }
  return picture.empty() ? picture : Frame1080p(picture);
}

// state.range(0): Frame.
void BM_AnalyzeKeyframe(benchmark::State& state) {
  const cv::Mat frame = TestFrame(static_cast<int>(state.range(0)));
  auto people = labels::PeopleDetector::Create();
  if (frame.empty() || !people.ok()) {
    state.SkipWithError("cannot read the sample frame or load the people detector");
    return;
  }
  std::string label;
  for (auto _ : state) {
    auto analysis = AnalyzeKeyframe(frame, **people);
    if (!analysis.ok()) {
      state.SkipWithError(analysis.status().ToString().c_str());
      break;
    }
    label = std::string(ShotScaleName(analysis->label.scale)) + " by " + analysis->label.method +
            (analysis->drops.empty() ? "" : ", dropped: " + analysis->drops[0].filter);
  }
  state.SetLabel(label);
}

// The people detector alone on the same frame.
void BM_DetectPeople(benchmark::State& state) {
  const cv::Mat frame = TestFrame(static_cast<int>(state.range(0)));
  auto people = labels::PeopleDetector::Create();
  if (frame.empty() || !people.ok()) {
    state.SkipWithError("cannot read the sample frame or load the people detector");
    return;
  }
  size_t found = 0;
  for (auto _ : state) {
    auto detections = (*people)->Detect(frame);
    if (!detections.ok()) {
      state.SkipWithError(detections.status().ToString().c_str());
      break;
    }
    found = detections->size();
  }
  state.counters["detections"] = static_cast<double>(found);
}

BENCHMARK(BM_BuildPool)
    ->ArgNames({"film", "threads"})
    ->Args({kMegamindTwice, 1})
    ->Args({kMegamindTwice, 2})
    ->Args({kVtest, 1})
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_AnalyzeKeyframe)
    ->ArgName("frame")
    ->Arg(kPeopleNoFace)
    ->Arg(kFace)
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_DetectPeople)
    ->ArgName("frame")
    ->Arg(kPeopleNoFace)
    ->Arg(kFace)
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dreamshot::dataset

BENCHMARK_MAIN();

// Source frames per second of DetectShots (and of the keyframe pass), and
// the real-time factor (frames/s / the video's fps), on Megamind.avi
// (720x528 XVID, decoded by FFmpeg) and on 60 s of synthetic 1080p MJPG at
// 24 fps written at the start (~40 s, ~300 MB in $TEST_TMPDIR or /tmp,
// deleted at exit). Run with
//   bazel run -c opt //bench:shot_detection_benchmark
// and read the medians (3 repetitions each). Variants switch off one speed-up
// at a time: the decode thread, parallel MJPEG decodes, the MJPEG packet path.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "dataset/shots/keyframe.h"
#include "dataset/shots/shot_detector.h"
#include "dataset/shots/test_video.h"

namespace dreamshot::dataset::shots {
namespace {

constexpr char kMegamind[] = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
constexpr double kMegamindFps = 23.976;
constexpr double kSyntheticFps = 24;
constexpr int kSyntheticFrames = 1440;  // 60 s
constexpr int kShotFrames = 120;

std::string* synthetic_path = nullptr;  // written once, removed at exit

void RemoveSynthetic() {
  if (synthetic_path != nullptr) std::remove(synthetic_path->c_str());
}

// 12 five-second shots of textured scenes panning 2 px a frame.
const std::string* SyntheticVideo() {
  if (synthetic_path != nullptr) return synthetic_path;
  const std::string path = synthetic::TempPath("shot_benchmark_1080p.avi");
  synthetic::VideoFile file;
  if (!file.Open(path, cv::Size(1920, 1080), kSyntheticFps).ok()) return nullptr;
  cv::RNG rng(2024);
  for (int shot = 0; shot < kSyntheticFrames / kShotFrames; ++shot) {
    synthetic::SceneSpec spec;
    spec.seed = 100 + shot;
    spec.colour_a = cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    spec.colour_b = cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    spec.pan_px = 2;
    const synthetic::Scene scene(spec, cv::Size(1920, 1080));
    for (int t = 0; t < kShotFrames; ++t) file.Write(scene.Frame(t));
  }
  file.Close();
  synthetic_path = new std::string(path);
  std::atexit(RemoveSynthetic);
  return synthetic_path;
}

enum Video { kMegamindVideo, kSynthetic1080p };

void Report(benchmark::State& state, int64_t frames, double fps) {
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  state.counters["x_realtime"] = benchmark::Counter(frames / fps, benchmark::Counter::kIsRate);
}

// What a run leaves out, to see what each speed-up buys.
enum Variant {
  kDefaults,
  kNoDecodeThread,       // FFmpeg decodes on the caller's thread
  kOneMjpegDecode,       // MJPEG packets decoded one at a time
  kFfmpegMjpeg,          // MJPEG through FFmpeg's decoder (decode thread on)
  kFfmpegMjpegNoThread,  // ... and on the caller's thread: the plain baseline
  kFrameStep2,           // every other frame analysed
};

// state.range(0): Video, range(1): Variant.
void BM_DetectShots(benchmark::State& state) {
  const bool megamind = state.range(0) == kMegamindVideo;
  std::string path = kMegamind;
  if (!megamind) {
    const std::string* synthetic = SyntheticVideo();
    if (synthetic == nullptr) {
      state.SkipWithError("cannot write the synthetic video");
      return;
    }
    path = *synthetic;
  }
  ShotDetectionOptions options;
  switch (state.range(1)) {
    case kNoDecodeThread: options.reader.decode_thread = false; break;
    case kOneMjpegDecode: options.reader.parallel_decodes = 1; break;
    case kFfmpegMjpeg: options.reader.mjpeg_packets = false; break;
    case kFfmpegMjpegNoThread:
      options.reader.mjpeg_packets = false;
      options.reader.decode_thread = false;
      break;
    case kFrameStep2: options.reader.frame_step = 2; break;
    default: break;
  }
  int64_t frames = 0, shots = 0;
  for (auto _ : state) {
    DetectionReport report;
    auto result = DetectShots(path, options, &report);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    frames += report.frames_read;
    shots = static_cast<int64_t>(result->size());
  }
  Report(state, frames, megamind ? kMegamindFps : kSyntheticFps);
  state.counters["shots"] = static_cast<double>(shots);
}

void BM_Keyframes(benchmark::State& state) {
  const std::string* path = SyntheticVideo();
  if (path == nullptr) {
    state.SkipWithError("cannot write the synthetic video");
    return;
  }
  auto shots = DetectShots(*path, ShotDetectionOptions{});
  if (!shots.ok()) {
    state.SkipWithError(shots.status().ToString().c_str());
    return;
  }
  int64_t frames = 0;
  for (auto _ : state) {
    auto keyframes = ExtractKeyframes(*path, *shots);
    if (!keyframes.ok() || keyframes->size() != shots->size()) {
      state.SkipWithError("keyframe pass failed");
      break;
    }
    frames += shots->back().end_frame + 1;
  }
  Report(state, frames, kSyntheticFps);
}

BENCHMARK(BM_DetectShots)
    ->ArgNames({"video", "variant"})
    ->Args({kMegamindVideo, kDefaults})
    ->Args({kMegamindVideo, kNoDecodeThread})
    ->Args({kMegamindVideo, kFrameStep2})
    ->Args({kSynthetic1080p, kDefaults})
    ->Args({kSynthetic1080p, kOneMjpegDecode})
    ->Args({kSynthetic1080p, kFfmpegMjpeg})
    ->Args({kSynthetic1080p, kFfmpegMjpegNoThread})
    ->Args({kSynthetic1080p, kFrameStep2})
    ->Repetitions(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_Keyframes)->Repetitions(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dreamshot::dataset::shots

BENCHMARK_MAIN();

// Shot boundary detection in the manner of PySceneDetect: streaming cut
// detectors fed per-frame metrics (frame_metrics.h) in order, fade handling
// around black frames, and DetectShots(), which runs a VideoReader through
// them and returns shots covering the whole video.
//
// A cut is the first frame of a new shot, as a source frame number. With
// frame skipping (frame_step k) a hard cut is reported at the first analysed
// frame of the new shot, i.e. 0..k-1 frames after the true cut: the reported
// start always belongs to the new shot.
#ifndef DREAMSHOT_DATASET_SHOTS_SHOT_DETECTOR_H_
#define DREAMSHOT_DATASET_SHOTS_SHOT_DETECTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "dataset/shots/frame_metrics.h"
#include "dataset/shots/video_reader.h"
#include "dataset/types.h"

namespace dreamshot::dataset::shots {

struct ContentDetectorOptions {
  double threshold = 27;  // content score (0-255) at which a frame opens a new shot
};

struct AdaptiveDetectorOptions {
  double ratio_threshold = 3.0;     // score / mean score of the neighbours
  double min_content_score = 15;    // and at least this score
  int window = 2;                   // neighbours on each side (analysed frames)
};

struct FadeOptions {
  bool enabled = true;
  double black_luma = 12;  // a frame whose picture's mean luma is below this is black
};

// Flashes (photo flashes, lightning, muzzle flashes) and decoding glitches
// are a frame or two unlike their neighbours, which are alike: content
// scores jump twice and a content detector cuts. A frame scoring at least
// min_score is a flash when a frame at most max_frames later scores below
// min_score against the frame before it; the flash frames and the one after
// them then never cut (and a flash to black is no fade).
struct FlashOptions {
  bool enabled = true;
  int max_frames = 2;  // analysed frames, at most kEarlierFrames
  double min_score = 15;
};

struct ShotDetectionOptions {
  enum class Method { kContent, kAdaptive };
  Method method = Method::kContent;
  ContentDetectorOptions content;
  AdaptiveDetectorOptions adaptive;
  FadeOptions fade;
  FlashOptions flash;
  ScoreOptions score;
  // No cut closer than this to the previous cut or to the first frame
  // (source frames); only the last shot may be shorter.
  int64_t min_shot_frames = 15;
  // analysis_max_side and frame_step apply; select and full_frames are
  // ignored by DetectShots.
  VideoReaderOptions reader;
};

// Streaming cut detector. Frames whose metrics are not `scored` never cut:
// the first frame, and (cleared by ShotDetector) flash frames with the frame
// after them, and frames next to or on black, which fades own.
class CutDetector {
 public:
  virtual ~CutDetector() = default;
  // Takes the next analysed frame's metrics; appends the cuts decided now.
  virtual void Push(const FrameMetrics& m, std::vector<int64_t>* cuts) = 0;
  // Decides what is pending at the end of the video.
  virtual void Finish(std::vector<int64_t>* /*cuts*/) {}
};

// Cuts where the score reaches the threshold and the previous cut (or the
// first frame) is at least min_shot_frames back. Decides at once.
class ContentDetector final : public CutDetector {
 public:
  ContentDetector(const ContentDetectorOptions& options, int64_t min_shot_frames);
  void Push(const FrameMetrics& m, std::vector<int64_t>* cuts) override;

 private:
  ContentDetectorOptions options_;
  int64_t min_shot_frames_;
  bool started_ = false;
  int64_t last_cut_ = 0;
};

// Cuts where the score is ratio_threshold times the mean score of the
// `window` analysed frames on either side and at least min_content_score,
// so that fast motion (high scores everywhere) does not cut while a cut
// inside it still stands out. Decides a frame when `window` later frames have
// arrived (or at Finish, with the neighbours there are). Unlike PySceneDetect,
// the mean is over scored neighbours only, and the last frames are decided too.
class AdaptiveDetector final : public CutDetector {
 public:
  AdaptiveDetector(const AdaptiveDetectorOptions& options, int64_t min_shot_frames);
  void Push(const FrameMetrics& m, std::vector<int64_t>* cuts) override;
  void Finish(std::vector<int64_t>* cuts) override;

 private:
  struct Entry {
    int64_t frame;
    bool scored;
    double content;
  };
  void Decide(std::vector<int64_t>* cuts);  // decides buffer_[target_] and moves on

  AdaptiveDetectorOptions options_;
  int64_t min_shot_frames_;
  bool started_ = false;
  int64_t last_cut_ = 0;
  std::deque<Entry> buffer_;  // up to `window` decided frames, then the undecided
  size_t target_ = 0;         // index in buffer_ of the next frame to decide
};

// Marks flashes (FlashOptions) in a stream of metrics: passes each frame on
// max_frames frames late, with `flash` set and `scored` cleared on flash
// frames, and `scored` cleared on the frame after a flash.
class FlashFilter {
 public:
  explicit FlashFilter(const FlashOptions& options);
  void Push(const FrameMetrics& m, std::vector<FrameMetrics>* out);
  void Finish(std::vector<FrameMetrics>* out);

 private:
  void Decide(std::vector<FrameMetrics>* out);  // decides and passes on buffer_.front()

  FlashOptions options_;
  std::deque<FrameMetrics> buffer_;
};

// Runs flash marking, the chosen cut detector and fade handling over
// analysed frames and builds the shot list. Fades: a run of black frames
// between pictures is one cut, at the run's middle frame; the shots on either
// side get fade_out / fade_in. Black at the very start or end gives the
// first shot fade_in or the last shot fade_out, without a cut. Cuts closer
// than min_shot_frames to the previous one are dropped (earliest first).
// Times come from the analysed frames, interpolated for shot ends between
// them (frame skipping).
class ShotDetector {
 public:
  explicit ShotDetector(const ShotDetectionOptions& options);
  // Scores and feeds the next analysed frame (BGR, analysis size).
  void Push(int64_t frame, double time_s, const cv::Mat& analysis);
  // Feeds metrics computed elsewhere (frames in increasing order).
  void Push(FrameMetrics m);
  // The shots of `source`, whose last source frame is `last_frame` (frame
  // skipping may not have analysed it) at `last_time_s`. At least one shot
  // once a frame was pushed; none otherwise.
  std::vector<Shot> Finish(const std::string& source, int64_t last_frame, double last_time_s);

  // "content" or "adaptive", and every setting that shapes the result.
  const char* method_name() const;
  std::map<std::string, double> params() const;

 private:
  struct Candidate {
    int64_t frame;
    bool fade;
  };
  void Process(FrameMetrics m);  // after flash marking
  double TimeAt(int64_t frame) const;

  ShotDetectionOptions options_;
  FrameScorer scorer_;
  FlashFilter flash_;
  std::vector<FrameMetrics> flashed_;  // scratch for flash_'s output
  std::unique_ptr<CutDetector> detector_;
  std::vector<int64_t> detector_cuts_;
  std::vector<Candidate> fade_cuts_;
  std::vector<std::pair<int64_t, double>> times_;  // (frame, time_s) of every analysed frame
  bool prev_black_ = false, in_black_ = false;
  bool run_leading_ = false;    // the current black run began at the first frame
  bool leading_black_ = false;  // the video begins black
  int64_t black_start_ = 0;
};

// What DetectShots saw besides the shots.
struct DetectionReport {
  VideoInfo info;
  int64_t frames_read = 0;      // source frames
  int64_t frames_analysed = 0;
  std::vector<std::string> warnings;  // e.g. a stream that ended early
};

// Called after each analysed frame with its source frame number and time;
// returning false stops the pass (DetectShots then fails CANCELLED).
using DetectionProgress = std::function<bool(int64_t frame, double time_s)>;

// Reads `video` (a file, or a folder of stills) and returns its shots, in
// order, covering frames 0..last. Fails as VideoReader::Open does; a stream
// that breaks midway gives the shots of the frames read and a warning in
// `report` (when given).
absl::StatusOr<std::vector<Shot>> DetectShots(const std::string& video, const ShotDetectionOptions& options,
                                              DetectionReport* report = nullptr,
                                              const DetectionProgress& progress = nullptr);

}  // namespace dreamshot::dataset::shots

#endif  // DREAMSHOT_DATASET_SHOTS_SHOT_DETECTOR_H_

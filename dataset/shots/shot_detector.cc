#include "dataset/shots/shot_detector.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::dataset::shots {

ContentDetector::ContentDetector(const ContentDetectorOptions& options, int64_t min_shot_frames)
    : options_(options), min_shot_frames_(min_shot_frames) {}

void ContentDetector::Push(const FrameMetrics& m, std::vector<int64_t>* cuts) {
  if (!started_) {  // the video's start counts as a cut for min_shot_frames
    started_ = true;
    last_cut_ = m.frame;
  }
  if (m.scored && m.content >= options_.threshold && m.frame - last_cut_ >= min_shot_frames_) {
    cuts->push_back(m.frame);
    last_cut_ = m.frame;
  }
}

AdaptiveDetector::AdaptiveDetector(const AdaptiveDetectorOptions& options, int64_t min_shot_frames)
    : options_(options), min_shot_frames_(min_shot_frames) {
  options_.window = std::max(1, options_.window);
}

void AdaptiveDetector::Push(const FrameMetrics& m, std::vector<int64_t>* cuts) {
  if (!started_) {
    started_ = true;
    last_cut_ = m.frame;
  }
  buffer_.push_back({m.frame, m.scored, m.content});
  const size_t w = static_cast<size_t>(options_.window);
  while (buffer_.size() > target_ + w) Decide(cuts);
}

void AdaptiveDetector::Finish(std::vector<int64_t>* cuts) {
  while (target_ < buffer_.size()) Decide(cuts);
}

void AdaptiveDetector::Decide(std::vector<int64_t>* cuts) {
  const size_t w = static_cast<size_t>(options_.window);
  const Entry& target = buffer_[target_];
  if (target.scored && target.content >= options_.min_content_score) {
    double sum = 0;
    int n = 0;
    const size_t end = std::min(buffer_.size(), target_ + w + 1);
    for (size_t i = target_ >= w ? target_ - w : 0; i < end; ++i) {
      if (i == target_ || !buffer_[i].scored) continue;
      sum += buffer_[i].content;
      ++n;
    }
    const double mean = n > 0 ? sum / n : 0;
    // As PySceneDetect: a (near) zero mean makes any qualifying score a cut.
    const double ratio = mean > 1e-5 ? std::min(target.content / mean, 255.0) : 255.0;
    if (ratio >= options_.ratio_threshold && target.frame - last_cut_ >= min_shot_frames_) {
      cuts->push_back(target.frame);
      last_cut_ = target.frame;
    }
  }
  // Keep `window` decided frames as left neighbours of the next target.
  if (target_ >= w) {
    buffer_.pop_front();
  } else {
    ++target_;
  }
}

FlashFilter::FlashFilter(const FlashOptions& options) : options_(options) {
  options_.max_frames = std::clamp(options_.max_frames, 1, kEarlierFrames);
}

void FlashFilter::Push(const FrameMetrics& m, std::vector<FrameMetrics>* out) {
  buffer_.push_back(m);
  while (buffer_.size() > static_cast<size_t>(options_.max_frames)) Decide(out);
}

void FlashFilter::Finish(std::vector<FrameMetrics>* out) {
  while (!buffer_.empty()) Decide(out);
}

void FlashFilter::Decide(std::vector<FrameMetrics>* out) {
  const FrameMetrics& start = buffer_.front();
  if (start.scored && !start.flash && start.content >= options_.min_score) {
    const size_t last = std::min(buffer_.size() - 1, static_cast<size_t>(options_.max_frames));
    for (size_t j = 1; j <= last; ++j) {
      // buffer_[j] against the frame before `start`: j + 1 steps back.
      const double back = buffer_[j].content_to_earlier[j - 1];
      if (back < 0 || back >= options_.min_score) continue;
      for (size_t k = 0; k < j; ++k) {
        buffer_[k].flash = true;
        buffer_[k].scored = false;
      }
      buffer_[j].scored = false;
      break;
    }
  }
  out->push_back(buffer_.front());
  buffer_.pop_front();
}

ShotDetector::ShotDetector(const ShotDetectionOptions& options)
    : options_(options), scorer_(options.score), flash_(options.flash) {
  options_.min_shot_frames = std::max<int64_t>(1, options_.min_shot_frames);
  if (options_.method == ShotDetectionOptions::Method::kAdaptive) {
    detector_ = std::make_unique<AdaptiveDetector>(options_.adaptive, options_.min_shot_frames);
  } else {
    detector_ = std::make_unique<ContentDetector>(options_.content, options_.min_shot_frames);
  }
}

const char* ShotDetector::method_name() const {
  return options_.method == ShotDetectionOptions::Method::kAdaptive ? "adaptive" : "content";
}

std::map<std::string, double> ShotDetector::params() const {
  const ShotDetectionOptions& o = options_;
  std::map<std::string, double> p = {
      {"min_shot_frames", static_cast<double>(o.min_shot_frames)},
      {"frame_step", o.reader.frame_step},
      {"analysis_max_side", o.reader.analysis_max_side},
      {"weight_hue", o.score.weight_hue},
      {"weight_sat", o.score.weight_sat},
      {"weight_value", o.score.weight_value},
      {"weight_edges", o.score.weight_edges},
      {"ignore_bars", o.score.ignore_bars ? 1 : 0},
  };
  if (o.method == ShotDetectionOptions::Method::kAdaptive) {
    p["ratio_threshold"] = o.adaptive.ratio_threshold;
    p["min_content_score"] = o.adaptive.min_content_score;
    p["window"] = o.adaptive.window;
  } else {
    p["threshold"] = o.content.threshold;
  }
  if (o.fade.enabled) p["black_luma"] = o.fade.black_luma;
  if (o.flash.enabled) {
    p["flash_max_frames"] = o.flash.max_frames;
    p["flash_min_score"] = o.flash.min_score;
  }
  return p;
}

void ShotDetector::Push(int64_t frame, double time_s, const cv::Mat& analysis) {
  Push(scorer_.Score(frame, time_s, analysis));
}

void ShotDetector::Push(FrameMetrics m) {
  if (!options_.flash.enabled) return Process(std::move(m));
  flashed_.clear();
  flash_.Push(m, &flashed_);
  for (FrameMetrics& f : flashed_) Process(std::move(f));
}

void ShotDetector::Process(FrameMetrics m) {
  const bool first = times_.empty();
  times_.emplace_back(m.frame, m.time_s);
  const bool black = options_.fade.enabled && !m.flash && m.luma < options_.fade.black_luma;
  // A change to or from black is a fade's business: scored as content it
  // would cut at the first black frame and again at the first picture.
  if (black || prev_black_) m.scored = false;
  if (black && !in_black_) {
    in_black_ = true;
    black_start_ = m.frame;
    run_leading_ = first;
    leading_black_ = leading_black_ || first;
  } else if (!black && in_black_) {
    in_black_ = false;
    if (!run_leading_) fade_cuts_.push_back({black_start_ + (m.frame - black_start_) / 2, true});
  }
  prev_black_ = black;
  detector_->Push(m, &detector_cuts_);
}

double ShotDetector::TimeAt(int64_t frame) const {
  auto it = std::lower_bound(times_.begin(), times_.end(), std::make_pair(frame, -1e300));
  if (it == times_.end()) return times_.empty() ? 0 : times_.back().second;
  if (it->first == frame || it == times_.begin()) return it->second;
  const auto& [f0, t0] = *std::prev(it);
  const auto& [f1, t1] = *it;
  return t0 + (t1 - t0) * static_cast<double>(frame - f0) / static_cast<double>(f1 - f0);
}

std::vector<Shot> ShotDetector::Finish(const std::string& source, int64_t last_frame, double last_time_s) {
  std::vector<Shot> shots;
  if (options_.flash.enabled) {
    flashed_.clear();
    flash_.Finish(&flashed_);
    for (FrameMetrics& f : flashed_) Process(std::move(f));
  }
  if (times_.empty()) return shots;
  detector_->Finish(&detector_cuts_);
  const int64_t first_frame = times_.front().first;
  if (last_frame > times_.back().first) times_.emplace_back(last_frame, last_time_s);
  last_frame = std::max(last_frame, times_.back().first);
  const bool trailing_black = in_black_;

  std::vector<Candidate> candidates = fade_cuts_;
  for (int64_t frame : detector_cuts_) candidates.push_back({frame, false});
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.frame < b.frame; });

  const std::map<std::string, double> params = this->params();
  auto open_shot = [&](int64_t start, const char* detector) {
    Shot shot;
    shot.source = source;
    shot.index = static_cast<int64_t>(shots.size());
    shot.start_frame = start;
    shot.start_s = TimeAt(start);
    shot.detector = detector;
    shot.detector_params = params;
    shots.push_back(std::move(shot));
  };
  open_shot(first_frame, "start");
  shots.back().fade_in = leading_black_;
  int64_t last_cut = first_frame;
  for (const Candidate& c : candidates) {
    if (c.frame - last_cut < options_.min_shot_frames || c.frame > last_frame) continue;
    shots.back().end_frame = c.frame - 1;
    shots.back().end_s = TimeAt(c.frame - 1);
    shots.back().fade_out = c.fade;
    open_shot(c.frame, c.fade ? "fade" : method_name());
    shots.back().fade_in = c.fade;
    last_cut = c.frame;
  }
  shots.back().end_frame = last_frame;
  shots.back().end_s = TimeAt(last_frame);
  shots.back().fade_out = shots.back().fade_out || trailing_black;
  return shots;
}

absl::StatusOr<std::vector<Shot>> DetectShots(const std::string& video, const ShotDetectionOptions& options,
                                              DetectionReport* report, const DetectionProgress& progress) {
  VideoReaderOptions reader_options = options.reader;
  reader_options.select = nullptr;
  reader_options.full_frames = false;
  ASSIGN_OR_RETURN(std::unique_ptr<VideoReader> reader, VideoReader::Open(video, reader_options));
  ShotDetector detector(options);
  Frame frame;
  int64_t analysed = 0;
  try {
    while (reader->Next(&frame)) {
      detector.Push(frame.index, frame.time_s, frame.analysis);
      ++analysed;
      if (progress && !progress(frame.index, frame.time_s)) {
        return absl::CancelledError(absl::StrCat("shot detection of ", video, " stopped at frame ", frame.index));
      }
    }
  } catch (const cv::Exception& e) {
    return absl::InternalError(
        absl::StrCat("analysing ", video, " at frame ", frame.index, ": OpenCV error: ", e.what()));
  }
  std::vector<Shot> shots = detector.Finish(video, reader->frames_read() - 1, reader->last_time_s());
  if (report != nullptr) {
    report->info = reader->info();
    report->frames_read = reader->frames_read();
    report->frames_analysed = analysed;
    report->warnings = reader->warnings();
  }
  return shots;
}

}  // namespace dreamshot::dataset::shots

#include "dataset/shots/keyframe.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dataset/shots/video_reader.h"

namespace dreamshot::dataset::shots {
namespace {

absl::Status CheckShots(const std::string& video, const std::vector<Shot>& shots) {
  for (size_t i = 0; i < shots.size(); ++i) {
    const Shot& s = shots[i];
    if (s.start_frame < 0 || s.end_frame < s.start_frame || (i > 0 && s.start_frame <= shots[i - 1].end_frame)) {
      return absl::InvalidArgumentError(absl::StrCat("keyframes of ", video, ": shot ", s.index, " [", s.start_frame,
                                                     ", ", s.end_frame,
                                                     "] is empty or not after the previous shot; shots must be "
                                                     "ordered and disjoint"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<int64_t> KeyframeCandidates(const Shot& shot, const KeyframeOptions& options) {
  const int64_t length = shot.end_frame - shot.start_frame + 1;
  const double fraction = std::clamp(options.central_fraction, 0.0, 1.0);
  const auto margin = static_cast<int64_t>(std::floor(length * (1 - fraction) / 2));
  const int64_t lo = shot.start_frame + margin, hi = shot.end_frame - margin;
  if (hi <= lo || options.max_candidates <= 1) return {shot.start_frame + (length - 1) / 2};
  const int64_t count = std::min<int64_t>(options.max_candidates, hi - lo + 1);
  std::vector<int64_t> frames;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t f = lo + static_cast<int64_t>(std::llround(static_cast<double>(i) * (hi - lo) / (count - 1)));
    if (frames.empty() || f != frames.back()) frames.push_back(f);
  }
  return frames;
}

cv::Mat Thumbnail(const cv::Mat& image) {
  cv::Mat grey, small;
  if (image.channels() == 3) {
    cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  } else {
    grey = image;
  }
  cv::resize(grey, small, cv::Size(kThumbnailWidth, kThumbnailHeight), 0, 0, cv::INTER_AREA);
  return small;
}

size_t ChooseKeyframe(const std::vector<KeyframeCandidate>& candidates, const KeyframeOptions& options) {
  const size_t n = candidates.size();
  std::vector<bool> outlier(n, false);
  if (n >= 3 && options.outlier_ratio > 0) {
    // Each candidate's distance to its nearer neighbour in time, and the
    // shot's typical one: motion accumulates over a shot, so only
    // neighbours are compared.
    auto distance = [&](size_t a, size_t b) {
      return cv::norm(candidates[a].thumbnail, candidates[b].thumbnail, cv::NORM_L1) /
             static_cast<double>(candidates[a].thumbnail.total());
    };
    std::vector<double> typical(n);
    for (size_t i = 0; i < n; ++i) {
      const double before = i > 0 ? distance(i, i - 1) : distance(i, i + 1);
      const double after = i + 1 < n ? distance(i, i + 1) : before;
      typical[i] = std::min(before, after);
    }
    std::vector<double> sorted = typical;
    std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
    const double shot_typical = sorted[n / 2];
    for (size_t i = 0; i < n; ++i) {
      outlier[i] = typical[i] > std::max(options.outlier_ratio * shot_typical, shot_typical + options.outlier_min_luma);
    }
  }
  size_t best = n;
  for (size_t i = 0; i < n; ++i) {
    if (outlier[i]) continue;
    if (best == n || candidates[i].sharpness > candidates[best].sharpness) best = i;
  }
  return best == n ? 0 : best;
}

double Sharpness(const cv::Mat& image) {
  cv::Mat grey, laplacian;
  if (image.channels() == 3) {
    cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
  } else {
    grey = image;
  }
  cv::Laplacian(grey, laplacian, CV_32F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(laplacian, mean, stddev);
  return stddev[0] * stddev[0];
}

absl::Status ForEachKeyframe(const std::string& video, const std::vector<Shot>& shots, const KeyframeOptions& options,
                             const std::function<absl::Status(Keyframe)>& sink, std::vector<std::string>* warnings) {
  RETURN_IF_ERROR(CheckShots(video, shots));
  if (shots.empty()) return absl::OkStatus();
  // (frame, position in `shots`), ascending in both.
  std::vector<std::pair<int64_t, size_t>> candidates;
  for (size_t i = 0; i < shots.size(); ++i) {
    for (int64_t f : KeyframeCandidates(shots[i], options)) candidates.emplace_back(f, i);
  }
  const auto frames = std::make_shared<std::vector<int64_t>>();
  for (const auto& c : candidates) frames->push_back(c.first);

  VideoReaderOptions reader_options;
  reader_options.analysis_max_side = options.analysis_max_side;
  reader_options.full_frames = true;
  reader_options.select = [frames](int64_t i) { return std::binary_search(frames->begin(), frames->end(), i); };
  ASSIGN_OR_RETURN(std::unique_ptr<VideoReader> reader, VideoReader::Open(video, reader_options));

  std::vector<KeyframeCandidate> pending;  // of the shot in progress, shots[pending_pos]
  size_t pending_pos = 0;
  size_t next = 0;        // next candidate expected
  size_t shots_seen = 0;  // shots (positions) with a candidate read
  auto flush = [&]() -> absl::Status {
    if (pending.empty()) return absl::OkStatus();
    const size_t chosen = ChooseKeyframe(pending, options);
    Keyframe done{shots[pending_pos].index, pending[chosen].frame, pending[chosen].time_s, pending[chosen].sharpness,
                  std::move(pending[chosen].image)};
    pending.clear();
    return sink(std::move(done));
  };
  Frame frame;
  while (next < candidates.size() && reader->Next(&frame)) {
    // Candidates a broken-off frame skipped are passed over.
    while (next < candidates.size() && candidates[next].first < frame.index) ++next;
    if (next == candidates.size() || candidates[next].first != frame.index) continue;
    const size_t shot = candidates[next++].second;
    shots_seen = shot + 1;
    if (!pending.empty() && pending_pos != shot) RETURN_IF_ERROR(flush());
    KeyframeCandidate c;
    c.frame = frame.index;
    c.time_s = frame.time_s;
    try {
      c.sharpness = Sharpness(frame.analysis);
      c.thumbnail = Thumbnail(frame.analysis);
    } catch (const cv::Exception& e) {
      return absl::InternalError(absl::StrCat("keyframes of ", video, ", frame ", frame.index, ": ", e.what()));
    }
    c.image = frame.full;
    pending.push_back(std::move(c));
    pending_pos = shot;
  }
  RETURN_IF_ERROR(flush());
  if (warnings != nullptr) {
    for (const std::string& w : reader->warnings()) warnings->push_back(w);
    if (shots_seen < shots.size()) {
      warnings->push_back(absl::StrCat(video, ": no keyframes for shots ", shots[shots_seen].index, " to ",
                                       shots.back().index, ": the video ended at frame ", reader->frames_read() - 1));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Keyframe>> ExtractKeyframes(const std::string& video, const std::vector<Shot>& shots,
                                                       const KeyframeOptions& options,
                                                       std::vector<std::string>* warnings) {
  std::vector<Keyframe> keyframes;
  RETURN_IF_ERROR(ForEachKeyframe(
      video, shots, options,
      [&keyframes](Keyframe k) {
        keyframes.push_back(std::move(k));
        return absl::OkStatus();
      },
      warnings));
  return keyframes;
}

}  // namespace dreamshot::dataset::shots

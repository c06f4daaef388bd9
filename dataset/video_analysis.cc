#include "dataset/video_analysis.h"

#include <chrono>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dataset/filters/image_convert.h"
#include "dataset/shots/video_reader.h"

namespace dreamshot::dataset {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The analysis of one keyframe; an analysis error drops the shot instead of
// failing the video (one odd frame must not cost a film's other shots).
void AnalyzeInto(const cv::Mat& image, labels::PeopleDetector& people, const KeyframeAnalysisConfig& config,
                 AnalyzedShot* out) {
  absl::StatusOr<KeyframeAnalysis> analysis = AnalyzeKeyframe(image, people, config);
  if (analysis.ok()) {
    out->analysis = std::move(*analysis);
  } else {
    out->analysis.drops.push_back({kAnalysisErrorDrop, std::string(analysis.status().message())});
  }
}

AnalyzedShot WithoutKeyframe(Shot shot, const std::string& why) {
  AnalyzedShot out;
  out.shot = std::move(shot);
  out.analysis.drops.push_back({kNoKeyframeDrop, why});
  return out;
}

}  // namespace

absl::Status AnalyzeVideo(const std::string& video, const VideoAnalysisOptions& options, labels::PeopleDetector* people,
                          const std::function<absl::Status(AnalyzedShot)>& sink, VideoAnalysisReport* report,
                          const VideoAnalysisProgressFn& progress) {
  if (options.analyze_keyframes && people == nullptr) {
    return absl::InvalidArgumentError("keyframe analysis needs a people detector");
  }
  VideoAnalysisReport local;
  VideoAnalysisReport& r = report != nullptr ? *report : local;
  const Clock::time_point detect_start = Clock::now();
  shots::DetectionReport detection;
  VideoAnalysisProgress p;
  shots::DetectionProgress on_frame;
  if (progress) {
    on_frame = [&](int64_t frame, double time_s) {
      p.frame = frame;
      p.time_s = time_s;
      return progress(p);
    };
  }
  absl::StatusOr<std::vector<Shot>> shots = shots::DetectShots(video, options.detection, &detection, on_frame);
  r.detect_seconds = SecondsSince(detect_start);
  r.info = detection.info;
  r.frames_read = detection.frames_read;
  r.frames_analysed = detection.frames_analysed;
  r.warnings = detection.warnings;
  if (!shots.ok()) return shots.status();
  r.shots = static_cast<int64_t>(shots->size());

  p.stage = VideoAnalysisProgress::Stage::kKeyframes;
  p.shots_total = r.shots;
  size_t next = 0;  // position in *shots of the next shot to hand out
  auto emit = [&](AnalyzedShot shot) -> absl::Status {
    RETURN_IF_ERROR(sink(std::move(shot)));
    ++next;
    p.shots_done = static_cast<int64_t>(next);
    if (progress && !progress(p)) {
      return absl::CancelledError(absl::StrCat("analysis of ", video, " stopped after ", next, " shots"));
    }
    return absl::OkStatus();
  };
  if (!options.analyze_keyframes) {
    for (const Shot& shot : *shots) {
      AnalyzedShot out;
      out.shot = shot;
      RETURN_IF_ERROR(emit(std::move(out)));
    }
    return absl::OkStatus();
  }

  const Clock::time_point keyframe_start = Clock::now();
  const std::string missed = "the video broke off before this shot's keyframe candidates";
  absl::Status status = shots::ForEachKeyframe(
      video, *shots, options.keyframes,
      [&](shots::Keyframe keyframe) -> absl::Status {
        // Shots the pass skipped (their candidates fell in a damaged stretch)
        // go out first, so the sink sees every shot in order.
        while (next < shots->size() && (*shots)[next].index < keyframe.shot_index) {
          RETURN_IF_ERROR(emit(WithoutKeyframe((*shots)[next], missed)));
        }
        AnalyzedShot out;
        out.shot = (*shots)[next];
        out.has_keyframe = true;
        out.keyframe = keyframe.frame;
        out.keyframe_s = keyframe.time_s;
        out.sharpness = keyframe.sharpness;
        AnalyzeInto(keyframe.image, *people, options.analysis, &out);
        return emit(std::move(out));
      },
      &r.warnings);
  r.keyframe_seconds = SecondsSince(keyframe_start);
  RETURN_IF_ERROR(status);
  while (next < shots->size()) RETURN_IF_ERROR(emit(WithoutKeyframe((*shots)[next], missed)));
  return absl::OkStatus();
}

absl::StatusOr<AnalyzedShot> AnalyzeStill(const std::string& path, const KeyframeAnalysisConfig& config,
                                          labels::PeopleDetector& people, std::vector<std::string>* warnings) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", ec.message()));
  if (size == 0) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file (0 bytes)"));
  cv::Mat image;
  try {
    image = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable image: ", e.what()));
  }
  if (image.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable image (no decoder accepts it)"));
  }
  const std::string arrived = filters::DescribeImage(image);
  if (image.channels() == 2) {  // grey + alpha
    cv::Mat grey;
    cv::extractChannel(image, grey, 0);
    image = grey;
    if (warnings != nullptr) warnings->push_back(absl::StrCat(path, ": grey+alpha image, alpha ignored"));
  }
  absl::Status supported = filters::CheckSupported(image);
  if (!supported.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": unsupported image ", arrived, ": ", supported.message()));
  }
  if (image.depth() == CV_16U) {  // 65535 → 255, as ToBgr8 scales
    cv::Mat eight;
    image.convertTo(eight, CV_8U, 255.0 / 65535.0);
    image = eight;
    if (warnings != nullptr) warnings->push_back(absl::StrCat(path, ": 16-bit image scaled to 8 bits"));
  }
  AnalyzedShot out;
  out.shot.source = path;
  out.shot.detector = "still";
  out.has_keyframe = true;
  // Judged at the size video keyframes are judged at, so the numbers compare.
  ASSIGN_OR_RETURN(cv::Mat grey, filters::ToGrey8(image));
  try {
    const cv::Size small = shots::AnalysisSize(grey.size(), shots::KeyframeOptions().analysis_max_side);
    out.sharpness = shots::Sharpness(small == grey.size() ? grey : filters::AreaResize(grey, small));
  } catch (const cv::Exception& e) {
    return filters::FromCvException(e, absl::StrCat("sharpness of ", path));
  }
  AnalyzeInto(image, people, config, &out);
  return out;
}

}  // namespace dreamshot::dataset

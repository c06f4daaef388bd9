// The MJPEG fast path of frame_source.h. On 1080p MJPEG (2 cores) FFmpeg
// takes ~7.6 ms to decode a frame and ~1.8 ms to convert it to BGR, of which
// the detectors then keep 1/56 of the pixels; libjpeg decodes straight to 1/4
// scale in ~4 ms, the reader runs two such decodes at once, and frames that
// frame skipping passes over are not decoded at all. DetectShots went from
// 158 frames/s (FFmpeg, decode thread) to 361 (shot_detection_benchmark).
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "absl/strings/str_cat.h"
#include "dataset/shots/frame_source.h"

namespace dreamshot::dataset::shots::internal {
namespace {

bool IsMjpeg(const std::string& fourcc) {
  return fourcc == "MJPG" || fourcc == "mjpg" || fourcc == "AVI1" || fourcc == "mjpa";
}

// The libjpeg scale (IMREAD_REDUCED_COLOR_k) giving the smallest image
// still at least the analysis size.
int ReducedMode(cv::Size source, cv::Size analysis) {
  for (const auto& [factor, mode] :
       {std::pair{8, cv::IMREAD_REDUCED_COLOR_8}, {4, cv::IMREAD_REDUCED_COLOR_4}, {2, cv::IMREAD_REDUCED_COLOR_2}}) {
    if (source.width / factor >= analysis.width && source.height / factor >= analysis.height) return mode;
  }
  return cv::IMREAD_COLOR;
}

class MjpegSource final : public FrameSource {
 public:
  MjpegSource(std::string path, SourceOptions options, int mode, double fps, int64_t announced)
      : path_(std::move(path)), options_(std::move(options)), mode_(mode), fps_(fps > 0 ? fps : 25),
        announced_(announced) {}

  cv::VideoCapture& capture() { return capture_; }

  // Reads and decodes frame 0 (kept for the first Produce()).
  cv::Mat ReadFirst() {
    cv::Mat packet;
    if (!capture_.grab() || !capture_.retrieve(packet) || packet.empty()) return cv::Mat();
    frames_read_ = 1;
    DecodedFrame first;
    first.image = cv::imdecode(packet, mode_);
    if (first.image.empty()) return cv::Mat();
    first_ = std::move(first);
    return first_->image;
  }

  bool defers_decoding() const override { return true; }

  bool Produce(DecodedFrame* out) override {
    if (first_) {
      DecodedFrame first = std::move(*first_);
      first_.reset();
      if (options_.want(0)) {
        *out = std::move(first);
        return true;
      }
    }
    while (!ended_) {
      const int64_t index = frames_read_;
      const bool wanted = options_.want(index);
      cv::Mat packet;
      try {
        // In raw mode grab() only demuxes; retrieve() hands out the packet.
        if (!capture_.grab() || (wanted && !capture_.retrieve(packet))) return End();
      } catch (const cv::Exception& e) {
        warnings_.push_back(absl::StrCat(path_, ": OpenCV error at frame ", index, ", stopped there: ", e.what()));
        return End();
      }
      ++frames_read_;
      // Raw mode reports no timestamps; MJPEG in AVI has a constant rate.
      last_time_s_ = static_cast<double>(index) / fps_;
      if (!wanted) continue;
      // Each frame stands alone: a bad one is skipped (by the reader), not
      // the end of the stream.
      out->image.release();
      out->decode = [packet, mode = mode_]() -> cv::Mat {
        try {
          return packet.empty() ? cv::Mat() : cv::imdecode(packet, mode);
        } catch (const cv::Exception&) {
          return cv::Mat();
        }
      };
      out->index = index;
      out->time_s = last_time_s_;
      return true;
    }
    return false;
  }

 private:
  bool End() {
    ended_ = true;
    if (std::string w = EarlyEndWarning(path_, frames_read_, announced_); !w.empty()) warnings_.push_back(w);
    return false;
  }

  const std::string path_;
  const SourceOptions options_;
  const int mode_;
  const double fps_;
  const int64_t announced_;
  cv::VideoCapture capture_;
  std::optional<DecodedFrame> first_;
  bool ended_ = false;
};

// Mean absolute difference of `reduced` and `full` brought to its size by
// exact area averaging (once per video), largest over the channels.
double Difference(const cv::Mat& reduced, const cv::Mat& full) {
  cv::Mat scaled, diff;
  cv::resize(full, scaled, reduced.size(), 0, 0, cv::INTER_AREA);
  cv::absdiff(reduced, scaled, diff);
  const cv::Scalar m = cv::mean(diff);
  return std::max({m[0], m[1], m[2]});
}

}  // namespace

std::unique_ptr<FrameSource> TryMjpegPackets(const std::string& path, const SourceOptions& options,
                                             const VideoInfo& info, const cv::Mat& first) {
  if (!options.mjpeg_packets || !IsMjpeg(info.codec)) return nullptr;
  const cv::Size analysis = AnalysisSize(info.size, options.analysis_max_side);
  const int mode = options.full_frames ? cv::IMREAD_COLOR : ReducedMode(info.size, analysis);
  auto source = std::make_unique<MjpegSource>(path, options, mode, info.fps, info.announced_frames);
  try {
    source->capture().open(
        path, cv::CAP_FFMPEG,
        {cv::CAP_PROP_HW_ACCELERATION, cv::VIDEO_ACCELERATION_NONE, cv::CAP_PROP_FORMAT, -1});
    if (!source->capture().isOpened()) return nullptr;
    const cv::Mat mine = source->ReadFirst();
    // libjpeg and FFmpeg round chroma differently (~1.5 levels at 1080p);
    // anything far off means the packets are not what they seem.
    if (mine.empty() || Difference(mine, first) > 4) return nullptr;
  } catch (const cv::Exception&) {
    return nullptr;  // the FFmpeg decoding path stays in charge
  }
  return source;
}

}  // namespace dreamshot::dataset::shots::internal

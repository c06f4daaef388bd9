#include "dataset/shots/frame_source.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dataset/sources.h"

namespace dreamshot::dataset::shots::internal {
namespace {

std::string FourCC(double value) {
  const auto code = static_cast<uint32_t>(value);
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((code >> (8 * i)) & 0xff);
    if (std::isprint(static_cast<unsigned char>(c))) s += c;
  }
  return s;
}

class CaptureSource final : public FrameSource {
 public:
  CaptureSource(std::string path, SourceOptions options, double fps, int64_t announced)
      : path_(std::move(path)), options_(std::move(options)), fps_(fps), announced_(announced) {}

  cv::VideoCapture& capture() { return capture_; }
  const cv::Mat& first_image() const { return first_->image; }

  // Decodes frame 0, which Open needs for the sizes and as proof that the
  // stream decodes at all; Produce() returns it first if it is wanted.
  absl::Status ReadFirst() {
    DecodedFrame frame;
    if (!Step(/*retrieve=*/true, &frame)) {
      std::string why = "no frame decodes (corrupt, or a codec this FFmpeg build lacks)";
      for (const std::string& w : TakeWarnings()) absl::StrAppend(&why, "; ", w);
      return absl::InvalidArgumentError(absl::StrCat("cannot read video ", path_, ": ", why));
    }
    first_ = std::move(frame);
    return absl::OkStatus();
  }

  bool Produce(DecodedFrame* out) override {
    if (first_) {
      DecodedFrame first = std::move(*first_);
      first_.reset();
      if (options_.want(first.index)) {
        *out = std::move(first);
        return true;
      }
    }
    while (true) {
      const bool wanted = options_.want(frames_read_);
      if (!Step(wanted, out)) return false;
      if (wanted) return true;
    }
  }

 private:
  // Grabs the next source frame (always: inter-frame codecs need every
  // packet decoded) and converts it to BGR only when `retrieve`.
  bool Step(bool retrieve, DecodedFrame* out) {
    if (ended_) return false;
    try {
      if (!capture_.grab()) return End();
      const double time_s = NextTime(capture_.get(cv::CAP_PROP_POS_MSEC));
      if (retrieve && (!capture_.retrieve(out->image) || out->image.empty())) {
        warnings_.push_back(absl::StrCat(path_, ": frame ", frames_read_, " decoded but did not convert to BGR; stopped there"));
        return End();
      }
      out->index = frames_read_++;
      out->time_s = last_time_s_ = time_s;
      return true;
    } catch (const cv::Exception& e) {
      warnings_.push_back(absl::StrCat(path_, ": OpenCV error at frame ", frames_read_, ", stopped there: ", e.what()));
      return End();
    }
  }

  // Presentation time from the backend's timestamp, relative to frame 0 (an
  // AVI with B-frames reports frame 0 at one frame period); a missing or
  // non-increasing timestamp continues from the previous frame at 1/fps.
  double NextTime(double pts_ms) {
    if (frames_read_ == 0) {
      first_pts_ms_ = pts_ms;
      return 0;
    }
    const double t = (pts_ms - first_pts_ms_) / 1000.0;
    if (std::isfinite(t) && t > last_time_s_) return t;
    return last_time_s_ + 1.0 / (fps_ > 0 ? fps_ : 25.0);
  }

  bool End() {
    ended_ = true;
    if (std::string w = EarlyEndWarning(path_, frames_read_, announced_); !w.empty()) warnings_.push_back(w);
    return false;
  }

  const std::string path_;
  const SourceOptions options_;
  const double fps_;
  const int64_t announced_;
  cv::VideoCapture capture_;
  std::optional<DecodedFrame> first_;
  double first_pts_ms_ = 0;
  bool ended_ = false;
};

class StillSource final : public FrameSource {
 public:
  StillSource(std::vector<std::string> files, SourceOptions options)
      : files_(std::move(files)), options_(std::move(options)) {}

  // Reads up to the first decodable still (for the sizes and as proof).
  absl::Status ReadFirst(const std::string& folder, cv::Size* size) {
    DecodedFrame frame;
    while (frames_read_ < static_cast<int64_t>(files_.size())) {
      if (Read(&frame)) {
        *size = frame.image.size();
        first_ = std::move(frame);
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("none of the ", files_.size(), " images in folder ", folder, " decodes"));
  }

  bool defers_decoding() const override { return true; }

  bool Produce(DecodedFrame* out) override {
    if (first_) {
      DecodedFrame first = std::move(*first_);
      first_.reset();
      if (options_.want(first.index)) {
        *out = std::move(first);
        return true;
      }
    }
    while (frames_read_ < static_cast<int64_t>(files_.size())) {
      const int64_t index = frames_read_++;
      last_time_s_ = static_cast<double>(index) / options_.still_fps;
      if (!options_.want(index)) continue;
      out->index = index;
      out->time_s = last_time_s_;
      out->still = files_[index];
      out->image.release();
      out->decode = [file = files_[index]] { return Decode(file); };
      return true;
    }
    return false;
  }

 private:
  static cv::Mat Decode(const std::string& file) {
    try {
      return cv::imread(file, cv::IMREAD_COLOR);
    } catch (const cv::Exception&) {
      return cv::Mat();  // reported by the reader like any undecodable file
    }
  }

  // Reads still number frames_read_ (and counts it, readable or not).
  bool Read(DecodedFrame* out) {
    const int64_t index = frames_read_++;
    last_time_s_ = static_cast<double>(index) / options_.still_fps;
    const std::string& file = files_[index];
    out->image = Decode(file);
    if (out->image.empty()) {
      warnings_.push_back(absl::StrCat(file, ": not a decodable image; skipped (frame ", index, ")"));
      return false;
    }
    out->index = index;
    out->time_s = last_time_s_;
    out->still = file;
    return true;
  }

  const std::vector<std::string> files_;
  const SourceOptions options_;
  std::optional<DecodedFrame> first_;
};

}  // namespace

std::string EarlyEndWarning(const std::string& path, int64_t frames_read, int64_t announced) {
  const int64_t slack = std::max<int64_t>(2, announced / 100);
  if (announced <= 0 || frames_read <= 0 || frames_read + slack >= announced) return "";
  return absl::StrCat(path, ": stream ended after ", frames_read, " frames but the container announces ", announced,
                      " (truncated or corrupt); results cover the frames read");
}

absl::StatusOr<std::unique_ptr<FrameSource>> OpenCapture(const std::string& path, const SourceOptions& options,
                                                         VideoInfo* info) {
  cv::VideoCapture probe;
  try {
    // No hardware decoding: this is a CPU pipeline, and probing VA-API on a
    // machine without it only costs time and prints errors.
    probe.open(path, cv::CAP_FFMPEG, {cv::CAP_PROP_HW_ACCELERATION, cv::VIDEO_ACCELERATION_NONE});
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open video ", path, ": ", e.what()));
  }
  if (!probe.isOpened()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open video ", path,
                                                   ": OpenCV's FFmpeg backend does not recognise it "
                                                   "(not a video, or a container/codec this build lacks)"));
  }
  info->path = path;
  info->fps = probe.get(cv::CAP_PROP_FPS);
  const double count = probe.get(cv::CAP_PROP_FRAME_COUNT);
  info->announced_frames = std::isfinite(count) && count > 0 ? static_cast<int64_t>(count) : 0;
  info->codec = FourCC(probe.get(cv::CAP_PROP_FOURCC));
  auto source = std::make_unique<CaptureSource>(path, options, info->fps, info->announced_frames);
  source->capture() = std::move(probe);
  if (absl::Status s = source->ReadFirst(); !s.ok()) return s;
  info->size = source->first_image().size();
  if (std::unique_ptr<FrameSource> fast = TryMjpegPackets(path, options, *info, source->first_image())) {
    return fast;
  }
  return std::unique_ptr<FrameSource>(std::move(source));
}

absl::StatusOr<std::unique_ptr<FrameSource>> OpenStills(const std::string& folder, const SourceOptions& options,
                                                        VideoInfo* info) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && IsImageFileName(it->path().string())) files.push_back(it->path().string());
  }
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot list folder ", folder, ": ", ec.message()));
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("no images (.jpg .jpeg .png .bmp .tif .tiff .webp) in folder ", folder));
  }
  std::sort(files.begin(), files.end());
  const size_t count = files.size();
  auto source = std::make_unique<StillSource>(std::move(files), options);
  if (absl::Status s = source->ReadFirst(folder, &info->size); !s.ok()) return s;
  info->path = folder;
  info->image_folder = true;
  info->fps = options.still_fps;
  info->announced_frames = static_cast<int64_t>(count);
  info->codec = "stills";
  return std::unique_ptr<FrameSource>(std::move(source));
}

}  // namespace dreamshot::dataset::shots::internal

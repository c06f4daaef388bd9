#include "dataset/shots/video_reader.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dataset/shots/frame_source.h"

namespace dreamshot::dataset::shots {
namespace {

using internal::DecodedFrame;
using internal::FrameSource;

// What the decode thread hands over: a frame, or the end of the source with
// the final counts. Counters and warnings travel with the items so that the
// reader's state is only touched on the caller's thread.
struct Item {
  bool end = false;
  DecodedFrame frame;
  int64_t frames_read = 0;
  double last_time_s = 0;
  std::vector<std::string> warnings;
};

// Runs FrameSource::Produce() on a thread, a few frames ahead. Three frames
// of look-ahead cover decoder jitter; more would only hold memory (a 1080p
// BGR frame is 6 MB).
class DecodeThread {
 public:
  explicit DecodeThread(FrameSource* source) : source_(source), thread_([this] { Run(); }) {}
  ~DecodeThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    space_.notify_all();
    thread_.join();
  }

  Item Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [this] { return !queue_.empty(); });
    Item item = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return item;
  }

 private:
  static constexpr size_t kDepth = 3;

  void Run() {
    while (true) {
      Item item;
      item.end = !source_->Produce(&item.frame);
      item.frames_read = source_->frames_read();
      item.last_time_s = source_->last_time_s();
      item.warnings = source_->TakeWarnings();
      std::unique_lock<std::mutex> lock(mu_);
      space_.wait(lock, [this] { return stop_ || queue_.size() < kDepth; });
      if (stop_) return;
      const bool end = item.end;
      queue_.push_back(std::move(item));
      ready_.notify_one();
      if (end) return;
    }
  }

  FrameSource* const source_;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<Item> queue_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

class ReaderImpl final : public VideoReader {
 public:
  ReaderImpl(VideoInfo info, std::unique_ptr<FrameSource> source, const VideoReaderOptions& options)
      : source_(std::move(source)), full_frames_(options.full_frames) {
    info_ = std::move(info);
    frames_read_ = source_->frames_read();
    last_time_s_ = source_->last_time_s();
    warnings_ = source_->TakeWarnings();
    if (source_->defers_decoding()) {
      const int cores = static_cast<int>(std::thread::hardware_concurrency());
      depth_ = static_cast<size_t>(std::max(1, options.parallel_decodes > 0 ? options.parallel_decodes : cores));
    } else if (options.decode_thread) {
      thread_ = std::make_unique<DecodeThread>(source_.get());
    }
  }
  ~ReaderImpl() override {
    pending_.clear();  // waits for decodes in flight
    thread_.reset();   // joins before the source goes
  }

  bool Next(Frame* frame) override {
    while (!ended_) {
      Fill();
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      frames_read_ = p.item.frames_read;
      last_time_s_ = p.item.last_time_s;
      for (std::string& w : p.item.warnings) warnings_.push_back(std::move(w));
      if (p.item.end) {
        ended_ = true;
        break;
      }
      DecodedFrame& decoded = p.item.frame;
      cv::Mat image = p.image.valid() ? p.image.get() : std::move(decoded.image);
      if (image.empty()) {
        warnings_.push_back(absl::StrCat(decoded.still.empty() ? info_.path : decoded.still, ": frame ", decoded.index,
                                         " does not decode; skipped"));
        continue;
      }
      frame->index = decoded.index;
      frame->time_s = decoded.time_s;
      frame->still = std::move(decoded.still);
      // Fresh buffers every frame: callers keep earlier frames (shallow
      // copies) and must not see them overwritten.
      cv::Mat analysis;
      Downscale(image, info_.analysis_size, &analysis);
      frame->analysis = analysis.data == image.data && full_frames_ ? analysis.clone() : analysis;
      frame->full = full_frames_ ? std::move(image) : cv::Mat();
      return true;
    }
    return false;
  }

 private:
  struct Pending {
    Item item;
    std::future<cv::Mat> image;  // a deferred decode in flight
  };

  // Keeps depth_ frames pulled from the source, their deferred decodes
  // running, so that the caller finds the next frame ready.
  void Fill() {
    while (!source_done_ && pending_.size() < depth_) {
      Pending p;
      p.item = Pull();
      source_done_ = p.item.end;
      if (p.item.frame.decode) {
        try {
          p.image = std::async(std::launch::async, std::move(p.item.frame.decode));
        } catch (const std::system_error&) {  // no thread to be had: decode here
          std::promise<cv::Mat> done;
          done.set_value(p.item.frame.decode());
          p.image = done.get_future();
        }
      }
      pending_.push_back(std::move(p));
    }
  }

  Item Pull() {
    if (thread_ != nullptr) return thread_->Pop();
    Item item;
    item.end = !source_->Produce(&item.frame);
    item.frames_read = source_->frames_read();
    item.last_time_s = source_->last_time_s();
    item.warnings = source_->TakeWarnings();
    return item;
  }

  std::unique_ptr<FrameSource> source_;
  std::unique_ptr<DecodeThread> thread_;
  const bool full_frames_;
  size_t depth_ = 1;
  std::deque<Pending> pending_;
  bool source_done_ = false;
  bool ended_ = false;
};

absl::Status CheckOptions(const std::string& path, const VideoReaderOptions& o) {
  if (o.analysis_max_side < 0 || o.frame_step < 1 || !(o.still_fps > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("reading ", path, ": analysis_max_side ", o.analysis_max_side,
                                                   " must be >= 0, frame_step ", o.frame_step, " >= 1, still_fps ",
                                                   o.still_fps, " > 0"));
  }
  return absl::OkStatus();
}

// Missing, empty, unreadable or odd paths fail here with a precise reason,
// before OpenCV turns them all into "cannot open".
absl::Status CheckFile(const std::string& path, bool* is_folder) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return absl::NotFoundError(absl::StrCat("video not found: ", path));
  }
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot stat ", path, ": ", ec.message()));
  *is_folder = std::filesystem::is_directory(status);
  if (*is_folder) return absl::OkStatus();
  if (!std::filesystem::is_regular_file(status)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is neither a regular file nor a folder"));
  }
  if (std::filesystem::file_size(path, ec) == 0 && !ec) {
    return absl::InvalidArgumentError(absl::StrCat("video ", path, " is empty (0 bytes)"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace

cv::Size AnalysisSize(cv::Size source, int max_side) {
  const int longest = std::max(source.width, source.height);
  if (max_side <= 0 || longest <= max_side) return source;
  const double scale = static_cast<double>(max_side) / longest;
  return cv::Size(std::max(1, static_cast<int>(std::lround(source.width * scale))),
                  std::max(1, static_cast<int>(std::lround(source.height * scale))));
}

void Downscale(const cv::Mat& src, cv::Size size, cv::Mat* dst) {
  if (src.size() == size) {
    *dst = src;
    return;
  }
  const int k = std::min(src.cols / size.width, src.rows / size.height);
  if (k < 2) {
    cv::resize(src, *dst, size, 0, 0, cv::INTER_AREA);
    return;
  }
  // fx = fy = 1/k takes OpenCV's integer-factor path (block sums); the few
  // columns/rows past the last whole block are dropped (< k source pixels).
  cv::Mat blocks;
  cv::resize(src, blocks, cv::Size(), 1.0 / k, 1.0 / k, cv::INTER_AREA);
  cv::resize(blocks, *dst, size, 0, 0, cv::INTER_AREA);
}

absl::StatusOr<std::unique_ptr<VideoReader>> VideoReader::Open(const std::string& path,
                                                               const VideoReaderOptions& options) {
  if (absl::Status s = CheckOptions(path, options); !s.ok()) return s;
  bool is_folder = false;
  if (absl::Status s = CheckFile(path, &is_folder); !s.ok()) return s;
  internal::SourceOptions source_options;
  source_options.want = options.select;
  if (!source_options.want) {
    const int step = options.frame_step;
    source_options.want = [step](int64_t index) { return index % step == 0; };
  }
  source_options.full_frames = options.full_frames;
  source_options.mjpeg_packets = options.mjpeg_packets;
  source_options.analysis_max_side = options.analysis_max_side;
  source_options.still_fps = options.still_fps;
  VideoInfo info;
  absl::StatusOr<std::unique_ptr<FrameSource>> source = is_folder
                                                            ? internal::OpenStills(path, source_options, &info)
                                                            : internal::OpenCapture(path, source_options, &info);
  if (!source.ok()) return source.status();
  info.analysis_size = AnalysisSize(info.size, options.analysis_max_side);
  return std::unique_ptr<VideoReader>(new ReaderImpl(std::move(info), *std::move(source), options));
}

}  // namespace dreamshot::dataset::shots

// Internal to video_reader: where source frames come from (an FFmpeg
// capture, MJPEG packets decoded by libjpeg, or a folder of stills), one
// wanted frame at a time. VideoReader adds downscaling and the optional
// decode thread.
#ifndef DREAMSHOT_DATASET_SHOTS_FRAME_SOURCE_H_
#define DREAMSHOT_DATASET_SHOTS_FRAME_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "dataset/shots/video_reader.h"

namespace dreamshot::dataset::shots::internal {

struct DecodedFrame {
  int64_t index = 0;
  double time_s = 0;
  // BGR at the source size; only without full_frames may a source return it
  // smaller, never smaller than the analysis size.
  cv::Mat image;
  // Sources whose frames decode independently (MJPEG, stills) leave `image`
  // empty and return the decoding instead, for the reader to run several at
  // once. It may run on any thread, never throws, and returns an empty Mat
  // for an undecodable frame (skipped with a warning).
  std::function<cv::Mat()> decode;
  std::string still;
};

struct SourceOptions {
  // Whether the frame with this index is to be returned (select or step);
  // called once per index, in order.
  std::function<bool(int64_t)> want;
  bool full_frames = false;
  bool mjpeg_packets = true;
  int analysis_max_side = 0;
  double still_fps = 1;
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Reads source frames until a wanted one decodes; false at the end (or
  // when the stream breaks, with a warning).
  virtual bool Produce(DecodedFrame* out) = 0;

  // Whether Produce() hands out DecodedFrame::decode rather than images.
  virtual bool defers_decoding() const { return false; }

  int64_t frames_read() const { return frames_read_; }
  double last_time_s() const { return last_time_s_; }
  // Warnings since the last call.
  std::vector<std::string> TakeWarnings() {
    std::vector<std::string> taken;
    taken.swap(warnings_);
    return taken;
  }

 protected:
  int64_t frames_read_ = 0;
  double last_time_s_ = 0;
  std::vector<std::string> warnings_;
};

// Opens a video file through OpenCV's FFmpeg backend and decodes its first
// frame (the proof that it decodes), which the first Produce() returns when
// wanted. Fills `info` (all but analysis_size). `path` is known to be a
// non-empty regular file. MJPEG is handed to TryMjpegPackets.
absl::StatusOr<std::unique_ptr<FrameSource>> OpenCapture(const std::string& path, const SourceOptions& options,
                                                         VideoInfo* info);

// Lists a folder's images in name order and decodes the first readable one.
absl::StatusOr<std::unique_ptr<FrameSource>> OpenStills(const std::string& folder, const SourceOptions& options,
                                                        VideoInfo* info);

// For an MJPEG video: a source that reads packets without decoding them
// (FFmpeg's raw mode) and decodes only the wanted ones with libjpeg, at 1/2,
// 1/4 or 1/8 scale (DCT scaling) when full frames are not needed. Frames are
// independent, so skipped frames cost nothing. Returns null when the video
// is not MJPEG or the packets do not decode to `first` (frame 0 as FFmpeg
// decodes it), e.g. AVI1 packets without Huffman tables.
std::unique_ptr<FrameSource> TryMjpegPackets(const std::string& path, const SourceOptions& options,
                                             const VideoInfo& info, const cv::Mat& first);

// The warning for a stream that stopped before the count its container
// announced, or "" when the count is met (within a little slack: some
// containers estimate it from the duration).
std::string EarlyEndWarning(const std::string& path, int64_t frames_read, int64_t announced);

}  // namespace dreamshot::dataset::shots::internal

#endif  // DREAMSHOT_DATASET_SHOTS_FRAME_SOURCE_H_

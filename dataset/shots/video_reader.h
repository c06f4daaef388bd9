// Reads a video (anything OpenCV's FFmpeg backend decodes) or a folder of
// stills frame by frame, with each frame's source index and presentation
// time, a downscaled "analysis" copy for the detectors and, on request, the
// full-resolution frame.
//
// Errors are split in two: what makes the source unusable (missing, empty,
// not a video, no decodable first frame) fails Open() with a Status naming
// the path; what goes wrong later (a stream that breaks after N good frames,
// an unreadable still in a folder) ends or skips quietly and is recorded in
// warnings(), so a long film that is damaged near its end still yields the
// shots before the damage.
#ifndef DREAMSHOT_DATASET_SHOTS_VIDEO_READER_H_
#define DREAMSHOT_DATASET_SHOTS_VIDEO_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace dreamshot::dataset::shots {

struct VideoReaderOptions {
  // Analysis frames are shrunk (area averaging) so that their longest side
  // is at most this many pixels; 0 keeps the source size. All analysis
  // frames of one source have the size chosen for its first frame.
  int analysis_max_side = 256;
  // Analyse every k-th source frame (0, k, 2k, ...). Skipped frames are
  // grabbed (demuxed and decoded, as inter-frame codecs require) but not
  // converted to BGR; MJPEG and stills skip decoding too.
  int frame_step = 1;
  // When set, exactly the frames with select(index) == true are returned and
  // frame_step is ignored. Called in index order, from the decode thread when
  // decode_thread is on.
  std::function<bool(int64_t)> select;
  // Also return each returned frame at full resolution (Frame::full).
  bool full_frames = false;
  // Decode in a background thread while the caller downscales and analyses
  // the previous frame. Measured: 109 -> 158 frames/s on 1080p MJPEG through
  // FFmpeg; no change on Megamind's XVID, whose decoder runs its own threads.
  bool decode_thread = true;
  // Sources whose frames decode independently (MJPEG, stills) decode this
  // many frames at once instead (0: one per core).
  int parallel_decodes = 0;
  // Read MJPEG as packets and decode only the returned frames with libjpeg,
  // scaled down in the DCT when full frames are not needed (frame_source.h);
  // false leaves MJPEG to FFmpeg's decoder like any codec.
  bool mjpeg_packets = true;
  // An image folder is played at this rate: time_s = index / still_fps.
  double still_fps = 1.0;
};

struct VideoInfo {
  std::string path;
  bool image_folder = false;
  cv::Size size;           // of the first frame
  cv::Size analysis_size;  // every Frame::analysis has this size
  double fps = 0;          // the container's nominal rate (still_fps for folders)
  // Frames the container announces (0 when unknown); an estimate for some
  // formats, used only to notice a stream that ends early.
  int64_t announced_frames = 0;
  std::string codec;  // FourCC, e.g. "XVID", or "stills"
};

struct Frame {
  int64_t index = 0;  // source frame number from 0 (position in the sorted listing for folders)
  // Presentation time: the stream's timestamp less frame 0's (index / fps
  // where there is none, as in MJPEG packets; index / still_fps for stills).
  double time_s = 0;
  cv::Mat analysis;   // BGR, VideoInfo::analysis_size
  cv::Mat full;       // BGR, source size; empty unless full_frames
  std::string still;  // the still's file, for image folders
};

class VideoReader {
 public:
  // `path` is a video file or a folder of images (.jpg .jpeg .png .bmp .tif
  // .tiff .webp, read in name order). NOT_FOUND: missing path or a folder
  // without images; INVALID_ARGUMENT: empty file, bad options, a file no
  // decoder accepts or whose first frame does not decode; FAILED_PRECONDITION:
  // unreadable (permissions) or not a regular file or folder.
  static absl::StatusOr<std::unique_ptr<VideoReader>> Open(const std::string& path,
                                                           const VideoReaderOptions& options = {});
  virtual ~VideoReader() = default;

  // The next returned frame, or false at the end of the source (also when it
  // breaks early: see warnings()).
  virtual bool Next(Frame* frame) = 0;

  const VideoInfo& info() const { return info_; }
  // Source frames read so far, returned or not; after Next() returned false,
  // the source's length.
  int64_t frames_read() const { return frames_read_; }
  // Presentation time of the last source frame read (returned or not).
  double last_time_s() const { return last_time_s_; }
  // What went wrong without stopping the reader, each naming the path.
  const std::vector<std::string>& warnings() const { return warnings_; }

 protected:
  VideoInfo info_;
  int64_t frames_read_ = 0;
  double last_time_s_ = 0;
  std::vector<std::string> warnings_;
};

// The analysis size for a frame of `source` size: longest side at most
// `max_side` (0: unchanged), aspect kept, at least 1x1.
cv::Size AnalysisSize(cv::Size source, int max_side);

// Shrinks `src` to `size` by area averaging. A plain INTER_AREA resize from
// 1080p costs 5-7 ms; an integer-factor area step (OpenCV's fast path) then a
// small INTER_AREA step gives nearly the same pixels in ~2.5 ms.
void Downscale(const cv::Mat& src, cv::Size size, cv::Mat* dst);

}  // namespace dreamshot::dataset::shots

#endif  // DREAMSHOT_DATASET_SHOTS_VIDEO_READER_H_

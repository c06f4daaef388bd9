#include "dataset/shots/test_video.h"

#include <algorithm>
#include <cstdlib>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "absl/strings/str_cat.h"

namespace dreamshot::dataset::shots::synthetic {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/tmp", "/", name);
}

Scene::Scene(const SceneSpec& spec, cv::Size frame) : spec_(spec), frame_(frame) {
  // Noise at 1/16 of the canvas, smoothly enlarged: blobs of ~16 px that
  // survive downscaling to 256 px and JPEG compression alike.
  const cv::Size canvas(frame.width * 2, frame.height * 2);
  cv::Mat noise(canvas.height / 16 + 2, canvas.width / 16 + 2, CV_32F);
  cv::RNG rng(static_cast<uint64_t>(spec.seed) * 7919 + 17);
  rng.fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
  cv::Mat smooth;
  cv::resize(noise, smooth, canvas, 0, 0, cv::INTER_CUBIC);
  cv::GaussianBlur(smooth, smooth, cv::Size(0, 0), 3);
  canvas_.create(canvas, CV_8UC3);
  for (int y = 0; y < canvas.height; ++y) {
    const float* v = smooth.ptr<float>(y);
    cv::Vec3b* out = canvas_.ptr<cv::Vec3b>(y);
    for (int x = 0; x < canvas.width; ++x) {
      const double w = std::min(1.0f, std::max(0.0f, v[x]));
      for (int c = 0; c < 3; ++c) out[x][c] = cv::saturate_cast<uchar>(spec.colour_a[c] * (1 - w) + spec.colour_b[c] * w);
    }
  }
}

cv::Mat Scene::Frame(int t) const {
  // The camera window: panning right and down, shrinking with the zoom.
  const double scale = 1.0 / (1.0 + spec_.zoom * t);
  const double w = frame_.width * scale, h = frame_.height * scale;
  const double x = std::min(canvas_.cols - w, frame_.width * 0.25 + spec_.pan_px * t);
  const double y = std::min(canvas_.rows - h, frame_.height * 0.25 + spec_.pan_px * 0.5 * t);
  cv::Mat view;
  cv::resize(canvas_(cv::Rect(static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h))), view,
             frame_, 0, 0, cv::INTER_LINEAR);
  // A disc crossing the frame: motion that is not the camera's.
  const int r = frame_.height / 10;
  const cv::Point centre(r + (t * 3) % std::max(1, frame_.width - 2 * r), frame_.height * 2 / 3);
  cv::circle(view, centre, r, spec_.colour_b * 0.5 + spec_.colour_a * 0.5 + cv::Scalar(30, 30, 30), cv::FILLED,
             cv::LINE_AA);
  return view;
}

cv::Mat Letterbox(const cv::Mat& frame, double aspect) {
  const int picture = std::min(frame.rows, static_cast<int>(frame.cols / aspect + 0.5));
  const int top = (frame.rows - picture) / 2;
  cv::Mat out(frame.size(), frame.type(), cv::Scalar::all(0));
  cv::resize(frame, out(cv::Rect(0, top, frame.cols, picture)), cv::Size(frame.cols, picture), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat Dim(const cv::Mat& frame, double factor) {
  cv::Mat out;
  frame.convertTo(out, -1, factor, 0);
  return out;
}

VideoFile::VideoFile() = default;
VideoFile::~VideoFile() { Close(); }

absl::Status VideoFile::Open(const std::string& path, cv::Size size, double fps) {
  writer_ = std::make_unique<cv::VideoWriter>();
  try {
    writer_->open(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, size);
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", e.what()));
  }
  if (!writer_->isOpened()) return absl::InternalError(absl::StrCat("cannot write MJPG AVI ", path));
  return absl::OkStatus();
}

void VideoFile::Write(const cv::Mat& frame) { writer_->write(frame); }

void VideoFile::Close() {
  if (writer_ != nullptr) writer_->release();
  writer_.reset();
}

absl::Status WriteVideo(const std::string& path, const std::vector<cv::Mat>& frames, double fps) {
  if (frames.empty()) return absl::InvalidArgumentError(absl::StrCat("no frames for ", path));
  VideoFile file;
  if (absl::Status s = file.Open(path, frames[0].size(), fps); !s.ok()) return s;
  for (const cv::Mat& f : frames) file.Write(f);
  file.Close();
  return absl::OkStatus();
}

}  // namespace dreamshot::dataset::shots::synthetic

#include "dataset/labels/people_detector.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/objdetect/face.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::dataset::labels {
namespace {

namespace fs = std::filesystem;

struct Cascade {
  std::string name;  // file name, for Detection::source and errors
  cv::CascadeClassifier classifier;
  bool loaded() const { return !classifier.empty(); }
};

std::string ResolveCascade(const PeopleDetectorConfig& config, const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  return (fs::path(config.cascade_dir) / name).string();
}

absl::Status LoadCascade(const PeopleDetectorConfig& config, const std::string& name, Cascade* out) {
  if (name.empty()) return absl::OkStatus();  // detector turned off
  const std::string path = ResolveCascade(config, name);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("Haar cascade file ", path,
                     " does not exist (Debian's opencv-data installs them under "
                     "/usr/share/opencv4/haarcascades; set PeopleDetectorConfig::cascade_dir or the file name)"));
  }
  out->name = fs::path(path).filename().string();
  try {
    if (!out->classifier.load(path)) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is not a valid OpenCV cascade classifier file"));
    }
  } catch (const cv::Exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " could not be loaded as a cascade: ", absl::StripAsciiWhitespace(e.what())));
  }
  return absl::OkStatus();
}

double HaarScore(int neighbours) { return 1.0 - std::exp(-neighbours / 15.0); }
double HogScore(double margin) { return 1.0 - std::exp(-std::max(0.0, margin)); }

double IoU(const Box& a, const Box& b) {
  const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const int x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
  if (x1 <= x0 || y1 <= y0) return 0;
  const double inter = double(x1 - x0) * (y1 - y0);
  return inter / (double(a.width) * a.height + double(b.width) * b.height - inter);
}

// Greedy non-maximum suppression within one kind: the same person found by
// two detectors (Haar and HOG full body, profile and its mirror) counts once.
void SuppressOverlaps(std::vector<Detection>* dets) {
  std::stable_sort(dets->begin(), dets->end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& d : *dets) {
    const bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.kind == d.kind && IoU(k.box, d.box) > 0.3;
    });
    if (!overlaps) kept.push_back(d);
  }
  *dets = std::move(kept);
}

// Maps a box on the detection copy (scale `s` = copy / source) back to the
// source frame, clipped to it.
Box ToSource(const cv::Rect& r, double s, const cv::Size& frame) {
  cv::Rect scaled(int(std::lround(r.x / s)), int(std::lround(r.y / s)), int(std::lround(r.width / s)),
                  int(std::lround(r.height / s)));
  scaled &= cv::Rect(0, 0, frame.width, frame.height);
  return Box{scaled.x, scaled.y, scaled.width, scaled.height};
}

double ScaleFor(const cv::Size& size, int max_side) {
  const int side = std::max(size.width, size.height);
  return side > max_side ? double(max_side) / side : 1.0;
}

}  // namespace

struct PeopleDetector::Impl {
  PeopleDetectorConfig config;
  Cascade frontal, profile, upper, full;
  cv::HOGDescriptor hog;
  cv::Ptr<cv::FaceDetectorYN> yunet;

  void RunCascade(Cascade& c, const cv::Mat& grey, DetectionKind kind, int min_neighbours, cv::Size min_size,
                  double s, const cv::Size& frame, bool mirrored, std::vector<Detection>* out) {
    if (!c.loaded()) return;
    std::vector<cv::Rect> rects;
    std::vector<int> neighbours;
    c.classifier.detectMultiScale(grey, rects, neighbours, config.cascade_scale_factor, min_neighbours, 0, min_size);
    for (size_t i = 0; i < rects.size(); ++i) {
      cv::Rect r = rects[i];
      if (mirrored) r.x = grey.cols - r.x - r.width;
      out->push_back({kind, ToSource(r, s, frame), HaarScore(neighbours[i]), "haar:" + c.name});
    }
  }

  void RunYuNet(const cv::Mat& bgr_small, double s, const cv::Size& frame, std::vector<Detection>* out) {
    yunet->setInputSize(bgr_small.size());
    cv::Mat faces;  // [N, 15]: x, y, w, h, 5 landmarks (x, y), score
    yunet->detect(bgr_small, faces);
    for (int i = 0; i < faces.rows; ++i) {
      const float* f = faces.ptr<float>(i);
      const cv::Rect r{int(f[0]), int(f[1]), int(f[2]), int(f[3])};
      out->push_back({DetectionKind::kFace, ToSource(r, s, frame), double(f[14]), "yunet"});
    }
  }

  void RunHog(const cv::Mat& bgr, const cv::Size& frame, std::vector<Detection>* out) {
    const double s = ScaleFor(frame, config.hog_max_side);
    cv::Mat small;
    if (s < 1.0) {
      cv::resize(bgr, small, cv::Size(), s, s, cv::INTER_AREA);
    } else {
      small = bgr;
    }
    if (small.cols < hog.winSize.width || small.rows < hog.winSize.height) return;
    std::vector<cv::Rect> rects;
    std::vector<double> margins;
    hog.detectMultiScale(small, rects, margins, config.hog_hit_threshold, cv::Size(8, 8), cv::Size(), 1.05, 2.0);
    for (size_t i = 0; i < rects.size(); ++i) {
      out->push_back({DetectionKind::kFullBody, ToSource(rects[i], s, frame), HogScore(margins[i]), "hog"});
    }
  }

  std::vector<Detection> Detect(const cv::Mat& bgr) {
    const cv::Size frame = bgr.size();
    const double s = ScaleFor(frame, config.max_side);
    cv::Mat small, grey;
    if (s < 1.0) {
      cv::resize(bgr, small, cv::Size(), s, s, cv::INTER_AREA);
    } else {
      small = bgr;
    }
    cv::cvtColor(small, grey, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(grey, grey);  // as OpenCV's face-detection sample: evens out exposure
    cv::Mat mirrored;
    const cv::Size min_face(config.min_face_px, config.min_face_px);

    std::vector<Detection> faces, bodies;
    if (yunet) {
      RunYuNet(small, s, frame, &faces);
    } else {
      RunCascade(frontal, grey, DetectionKind::kFace, config.face_min_neighbors, min_face, s, frame, false, &faces);
      if (profile.loaded() && (faces.empty() || config.always_profile)) {
        // The profile cascade only knows faces turned one way; the mirror
        // finds the other.
        cv::flip(grey, mirrored, 1);
        RunCascade(profile, grey, DetectionKind::kProfile, config.face_min_neighbors, min_face, s, frame, false,
                   &faces);
        RunCascade(profile, mirrored, DetectionKind::kProfile, config.face_min_neighbors, min_face, s, frame, true,
                   &faces);
      }
    }
    if (faces.empty() || config.always_bodies) {
      RunCascade(upper, grey, DetectionKind::kUpperBody, config.body_min_neighbors, cv::Size(), s, frame, false,
                 &bodies);
      RunCascade(full, grey, DetectionKind::kFullBody, config.body_min_neighbors, cv::Size(), s, frame, false,
                 &bodies);
      if (config.hog_people) RunHog(bgr, frame, &bodies);
    }
    SuppressOverlaps(&faces);
    SuppressOverlaps(&bodies);
    auto by_height = [](const Detection& a, const Detection& b) {
      if (a.IsFace() != b.IsFace()) return a.IsFace();
      if (a.kind != b.kind) return a.kind < b.kind;
      return a.box.height > b.box.height;
    };
    faces.insert(faces.end(), bodies.begin(), bodies.end());
    std::stable_sort(faces.begin(), faces.end(), by_height);
    return faces;
  }
};

PeopleDetector::PeopleDetector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeopleDetector::~PeopleDetector() = default;

const PeopleDetectorConfig& PeopleDetector::config() const { return impl_->config; }

absl::StatusOr<std::unique_ptr<PeopleDetector>> PeopleDetector::Create(const PeopleDetectorConfig& config) {
  if (config.max_side < 64 || config.hog_max_side < 128 || config.min_face_px < 8 ||
      config.cascade_scale_factor <= 1.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PeopleDetectorConfig out of range: max_side ", config.max_side, " (>= 64), hog_max_side ",
        config.hog_max_side, " (>= 128), min_face_px ", config.min_face_px, " (>= 8), cascade_scale_factor ",
        config.cascade_scale_factor, " (> 1)"));
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  if (!config.yunet_model.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(config.yunet_model, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "YuNet face model ", config.yunet_model,
          " does not exist (an .onnx such as opencv_zoo's face_detection_yunet_2022mar.onnx; "
          "leave PeopleDetectorConfig::yunet_model empty to use the Haar cascades)"));
    }
    try {
      impl->yunet = cv::FaceDetectorYN::create(config.yunet_model, "", cv::Size(320, 320),
                                               float(config.yunet_score_threshold));
    } catch (const cv::Exception& e) {
      return absl::FailedPreconditionError(
          absl::StrCat("YuNet face model ", config.yunet_model,
                       " could not be loaded: ", absl::StripAsciiWhitespace(e.what())));
    }
    if (!impl->yunet) {
      return absl::FailedPreconditionError(absl::StrCat("YuNet face model ", config.yunet_model, " did not load"));
    }
  } else {
    if (absl::Status s = LoadCascade(config, config.frontal_face_cascade, &impl->frontal); !s.ok()) return s;
    if (absl::Status s = LoadCascade(config, config.profile_face_cascade, &impl->profile); !s.ok()) return s;
  }
  if (absl::Status s = LoadCascade(config, config.upper_body_cascade, &impl->upper); !s.ok()) return s;
  if (absl::Status s = LoadCascade(config, config.full_body_cascade, &impl->full); !s.ok()) return s;
  if (config.hog_people) impl->hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  return std::unique_ptr<PeopleDetector>(new PeopleDetector(std::move(impl)));
}

absl::StatusOr<std::vector<Detection>> PeopleDetector::Detect(const cv::Mat& frame) {
  if (frame.empty()) return absl::InvalidArgumentError("PeopleDetector::Detect: empty frame");
  if (frame.depth() != CV_8U || (frame.channels() != 1 && frame.channels() != 3 && frame.channels() != 4)) {
    return absl::InvalidArgumentError(
        absl::StrCat("PeopleDetector::Detect: expected an 8-bit grey, BGR or BGRA frame, got type ",
                     cv::typeToString(frame.type()), " ", frame.cols, "x", frame.rows));
  }
  try {
    cv::Mat bgr = frame;
    if (frame.channels() == 1) cv::cvtColor(frame, bgr, cv::COLOR_GRAY2BGR);
    if (frame.channels() == 4) cv::cvtColor(frame, bgr, cv::COLOR_BGRA2BGR);
    return impl_->Detect(bgr);
  } catch (const cv::Exception& e) {
    return absl::InternalError(
        absl::StrCat("OpenCV failed detecting people in a ", frame.cols, "x", frame.rows,
                     " frame: ", absl::StripAsciiWhitespace(e.what())));
  }
}

}  // namespace dreamshot::dataset::labels

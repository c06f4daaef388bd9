// Labels each photo given on the command line, fitted into a 1920x1080
// frame (scaled, aspect kept, grey bars), three times, and prints the label
// and the median time.
//   bazel run //dataset/labels:keyframe_label_timing -- a.jpg b.png
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dataset/labels/keyframe_label.h"

int main(int argc, char** argv) {
  using dreamshot::dataset::labels::LabelKeyframe;
  using dreamshot::dataset::labels::PeopleDetector;
  auto detector = PeopleDetector::Create();
  if (!detector.ok()) {
    std::fprintf(stderr, "%s\n", detector.status().ToString().c_str());
    return 1;
  }
  for (int i = 1; i < argc; ++i) {
    cv::Mat photo = cv::imread(argv[i]);
    if (photo.empty()) {
      std::fprintf(stderr, "%s: cannot read\n", argv[i]);
      return 1;
    }
    const double s = std::min(1920.0 / photo.cols, 1080.0 / photo.rows);
    cv::Mat scaled, frame(1080, 1920, CV_8UC3, cv::Scalar(110, 110, 110));
    cv::resize(photo, scaled, cv::Size(), s, s, cv::INTER_LINEAR);
    scaled.copyTo(frame(cv::Rect((1920 - scaled.cols) / 2, (1080 - scaled.rows) / 2, scaled.cols, scaled.rows)));
    std::vector<double> ms;
    dreamshot::dataset::labels::KeyframeLabel label;
    for (int rep = 0; rep < 3; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      auto got = LabelKeyframe(**detector, frame);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (!got.ok()) {
        std::fprintf(stderr, "%s: %s\n", argv[i], got.status().ToString().c_str());
        return 1;
      }
      label = *got;
    }
    std::sort(ms.begin(), ms.end());
    const auto& l = label.estimate.label;
    std::printf("%s: %s/%s conf %.2f (%s) %zu detections; median %.0f ms (min %.0f, max %.0f) at 1920x1080\n  %s\n",
                argv[i], dreamshot::dataset::ShotScaleName(l.scale), dreamshot::dataset::FineShotScaleName(l.fine),
                l.confidence, l.method.c_str(), label.detections.size(), ms[1], ms[0], ms[2], l.evidence.c_str());
  }
  return 0;
}

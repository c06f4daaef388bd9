#include "dataset/filters/test_images.h"

#include <algorithm>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "absl/strings/str_cat.h"

namespace dreamshot::dataset::filters::testing {

std::string SampleDir() {
  const char* env = std::getenv("DREAMSHOT_OPENCV_SAMPLES");
  return env != nullptr && *env != '\0' ? env : "/usr/share/doc/opencv-doc/examples/data";
}

absl::StatusOr<cv::Mat> LoadSample(const std::string& name) {
  const std::string path = absl::StrCat(SampleDir(), "/", name);
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  if (image.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read ", path, " (install opencv-doc or set DREAMSHOT_OPENCV_SAMPLES)"));
  }
  return image;
}

cv::Mat NoiseTexture(int width, int height, uint64_t seed) {
  cv::RNG rng(seed);
  cv::Mat sum = cv::Mat::zeros(height, width, CV_32FC3);
  // (downsampling, blur sigma): coarse scales are made small and enlarged,
  // which is what a wide blur would give, at a fraction of the cost.
  for (const auto& [factor, sigma] : {std::pair{1, 0.0}, {1, 2.0}, {4, 2.0}, {16, 2.0}}) {
    cv::Mat noise(height / factor + 2, width / factor + 2, CV_32FC3);
    rng.fill(noise, cv::RNG::UNIFORM, -1.0, 1.0);
    if (sigma > 0) cv::GaussianBlur(noise, noise, cv::Size(0, 0), sigma);
    if (factor > 1) cv::resize(noise, noise, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
    noise = noise(cv::Rect(0, 0, width, height));
    // Normalise each scale to unit std so the scales weigh alike.
    cv::Scalar mean, stddev;
    cv::meanStdDev(noise.reshape(1), mean, stddev);
    sum += noise / stddev[0];
  }
  cv::Mat out;
  sum.convertTo(out, CV_8UC3, 20.0, 128.0);  // std ≈ 40 of 255
  return out;
}

cv::Mat Gradient(int width, int height) {
  cv::Mat row(1, width, CV_8UC1);
  for (int x = 0; x < width; ++x) row.at<uint8_t>(x) = static_cast<uint8_t>(x * 255 / (width - 1));
  cv::Mat grey, bgr;
  cv::repeat(row, height, 1, grey);
  cv::cvtColor(grey, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

void DrawSubtitle(cv::Mat& image, const std::string& text, int baseline_y, int cap_height) {
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  // FONT_HERSHEY_SIMPLEX capitals are ~22 px tall at scale 1.
  const double scale = cap_height / 22.0;
  const int thickness = std::max(1, cap_height / 10);
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, font, scale, thickness, &baseline);
  const cv::Point origin((image.cols - size.width) / 2, baseline_y);
  cv::putText(image, text, origin, font, scale, cv::Scalar::all(0), thickness + 3, cv::LINE_AA);
  cv::putText(image, text, origin, font, scale, cv::Scalar::all(255), thickness, cv::LINE_AA);
}

}  // namespace dreamshot::dataset::filters::testing

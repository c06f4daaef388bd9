// Test images for the filters' tests: the OpenCV sample photos that
// tools/setup.sh installs (opencv-doc) and synthetic frames with known
// properties. Test-only.
#ifndef DREAMSHOT_DATASET_FILTERS_TEST_IMAGES_H_
#define DREAMSHOT_DATASET_FILTERS_TEST_IMAGES_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace dreamshot::dataset::filters::testing {

// $DREAMSHOT_OPENCV_SAMPLES, else /usr/share/doc/opencv-doc/examples/data.
std::string SampleDir();
// A sample photo as 8-bit BGR; NOT_FOUND naming the path and the variable.
absl::StatusOr<cv::Mat> LoadSample(const std::string& name);

// Smooth noise texture with detail at every scale (sharp, natural-ish
// statistics): uniform noise at four scales (pixel to ~30 px blobs) summed,
// BGR, luma std ≈ 25.
cv::Mat NoiseTexture(int width, int height, uint64_t seed);
// Left-to-right grey ramp 0 → 255, BGR.
cv::Mat Gradient(int width, int height);
// Draws a subtitle line (white, black outline, as players render them)
// centred horizontally with its baseline at `baseline_y`; glyphs are
// about `cap_height` px tall.
void DrawSubtitle(cv::Mat& image, const std::string& text, int baseline_y, int cap_height);

}  // namespace dreamshot::dataset::filters::testing

#endif  // DREAMSHOT_DATASET_FILTERS_TEST_IMAGES_H_

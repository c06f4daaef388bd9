#include "evaluator/pil_resample.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::evaluator {
namespace {

constexpr double kSupport = 2.0;  // of the cubic kernel, in input samples at scale 1

// Keys' cubic convolution kernel with a = -0.5 (Catmull-Rom).
double Cubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// Pillow rounds the weights half away from zero by truncating w·2²² ± 0.5.
int32_t ToFixed(double w) {
  const double scaled = w * static_cast<double>(1 << kResamplePrecisionBits);
  return static_cast<int32_t>(w < 0 ? scaled - 0.5 : scaled + 0.5);
}

uint8_t FromFixed(int32_t sum) {
  // Arithmetic shift, then Pillow's clip table (everything below 0 is 0,
  // above 255 is 255).
  return static_cast<uint8_t>(std::clamp(sum >> kResamplePrecisionBits, 0, 255));
}

// Rows of `in_width` pixels become rows of `out_width` pixels.
void HorizontalPass(const Image8& in, Image8& out, const ResampleWeights& w) {
  constexpr int32_t kHalf = 1 << (kResamplePrecisionBits - 1);
  const int ch = in.channels;
  for (int64_t y = 0; y < in.height; ++y) {
    const uint8_t* src = in.pixels.data() + y * in.width * ch;
    uint8_t* dst = out.pixels.data() + y * out.width * ch;
    for (int64_t x = 0; x < out.width; ++x) {
      const int32_t* k = &w.weights[static_cast<size_t>(x) * w.taps];
      const uint8_t* first = src + static_cast<int64_t>(w.first[x]) * ch;
      for (int c = 0; c < ch; ++c) {
        int32_t sum = kHalf;
        for (int j = 0; j < w.count[x]; ++j) sum += static_cast<int32_t>(first[j * ch + c]) * k[j];
        dst[x * ch + c] = FromFixed(sum);
      }
    }
  }
}

// Columns of `in_height` pixels become columns of `out_height` pixels; an
// output row accumulates whole input rows, so the reads stay sequential
// (each sum still adds its taps in order: the same integers as Pillow).
void VerticalPass(const Image8& in, Image8& out, const ResampleWeights& w) {
  constexpr int32_t kHalf = 1 << (kResamplePrecisionBits - 1);
  const int64_t row = in.width * in.channels;
  std::vector<int32_t> sums(static_cast<size_t>(row));
  for (int64_t y = 0; y < out.height; ++y) {
    std::fill(sums.begin(), sums.end(), kHalf);
    const int32_t* k = &w.weights[static_cast<size_t>(y) * w.taps];
    for (int j = 0; j < w.count[y]; ++j) {
      const uint8_t* src = in.pixels.data() + (w.first[y] + j) * row;
      const int32_t kj = k[j];
      for (int64_t i = 0; i < row; ++i) sums[i] += static_cast<int32_t>(src[i]) * kj;
    }
    uint8_t* dst = out.pixels.data() + y * row;
    for (int64_t i = 0; i < row; ++i) dst[i] = FromFixed(sums[i]);
  }
}

}  // namespace

ResampleWeights BicubicWeights(int in_size, int out_size) {
  ResampleWeights w;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);  // stretch the kernel only when shrinking
  const double support = kSupport * filter_scale;
  const double inverse_scale = 1.0 / filter_scale;  // Pillow multiplies by it: the same bits as Pillow
  w.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  w.first.resize(out_size);
  w.count.resize(out_size);
  w.weights.assign(static_cast<size_t>(out_size) * w.taps, 0);
  std::vector<double> raw(w.taps);
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // Pillow's bounds: truncation of centre ± support + 0.5, clamped to the input.
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = hi - lo;
    double total = 0;
    for (int j = 0; j < n; ++j) {
      raw[j] = Cubic((j + lo - center + 0.5) * inverse_scale);
      total += raw[j];
    }
    for (int j = 0; j < n; ++j) {
      const double normalised = total != 0.0 ? raw[j] / total : raw[j];
      w.weights[static_cast<size_t>(i) * w.taps + j] = ToFixed(normalised);
    }
    w.first[i] = lo;
    w.count[i] = n;
  }
  return w;
}

absl::StatusOr<Image8> ResizeBicubic(const Image8& image, int64_t width, int64_t height) {
  RETURN_IF_ERROR(CheckImage8(image));
  constexpr int64_t kMaxSide = 1 << 20;
  if (width <= 0 || height <= 0 || width > kMaxSide || height > kMaxSide) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resize to ", width, "×", height));
  }
  const int ch = image.channels;
  Image8 current = image;
  if (width != image.width) {  // horizontal pass first, as Pillow
    Image8 out{width, image.height, ch, std::vector<uint8_t>(static_cast<size_t>(width * image.height * ch))};
    HorizontalPass(current, out, BicubicWeights(static_cast<int>(image.width), static_cast<int>(width)));
    current = std::move(out);
  }
  if (height != image.height) {
    Image8 out{current.width, height, ch, std::vector<uint8_t>(static_cast<size_t>(current.width * height * ch))};
    VerticalPass(current, out, BicubicWeights(static_cast<int>(image.height), static_cast<int>(height)));
    current = std::move(out);
  }
  return current;
}

}  // namespace dreamshot::evaluator

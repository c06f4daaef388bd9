// Pillow's Image.resize(size, Image.BICUBIC) on 8-bit images, bit for bit
// (libImaging/Resample.c as of Pillow 4.3 onwards): the cubic convolution
// kernel with a = -0.5 whose support is stretched by the downscale factor
// (antialiasing), per-output-pixel weights normalised to sum to one, then
// quantised to signed fixed point with 22 fractional bits (rounded half
// away from zero); each output is the weighted sum of uint8 inputs plus
// one half, shifted back and clamped to [0, 255]. Two separable passes,
// horizontal first, each rounding to uint8; a pass whose size does not
// change is skipped. CLIP's and DINO's preprocessing (transformers,
// torchvision) both resize through it, so the pixels the encoders see
// depend on these roundings.
#ifndef DREAMSHOT_EVALUATOR_PIL_RESAMPLE_H_
#define DREAMSHOT_EVALUATOR_PIL_RESAMPLE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluator/image8.h"

namespace dreamshot::evaluator {

// The fixed-point weights of one pass from `in_size` to `out_size` samples:
// output i reads inputs [first[i], first[i] + count[i]) with weights
// weights[i * taps + j]. Exposed for tests.
struct ResampleWeights {
  int taps = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;
};
inline constexpr int kResamplePrecisionBits = 22;  // 32 - 8 bits of result - 2 of headroom, as Pillow
ResampleWeights BicubicWeights(int in_size, int out_size);

// INVALID_ARGUMENT for an invalid image or a non-positive size.
absl::StatusOr<Image8> ResizeBicubic(const Image8& image, int64_t width, int64_t height);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_PIL_RESAMPLE_H_

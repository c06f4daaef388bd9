// The image preprocessing of the evaluator's encoders, exactly as upstream
// runs it on PIL images:
//  - CLIP (transformers CLIPImageProcessor): RGB; shortest side to 224 with
//    PIL bicubic (other side int(224·long/short); no resize when the
//    shortest side already is 224), kept as uint8; centre crop 224 with
//    top = (h − 224) // 2; × 1/255; (x − mean) / std with CLIP's mean/std.
//  - DINO (torchvision Resize(256, BICUBIC) → CenterCrop(224) → ToTensor →
//    Normalize): the same resize to 256, centre crop with
//    top = int(round((h − 224) / 2)) (Python's round: half to even),
//    ImageNet mean/std.
// Wide cinema frames lose their sides in a square centre crop, which
// changes the apparent shot scale, so framing is an explicit choice:
// kLetterbox pads the image to a square with a recorded colour first (then
// the same pipeline runs; DINO's 256 → 224 crop still trims 1/16 of each
// side of the padded square). Describe() names every choice, for recording
// with each result and for cache keys.
#ifndef DREAMSHOT_EVALUATOR_IMAGE_PREPROCESS_H_
#define DREAMSHOT_EVALUATOR_IMAGE_PREPROCESS_H_

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluator/image8.h"

namespace dreamshot::evaluator {

enum class Framing {
  kCenterCrop,  // upstream's
  kLetterbox,   // pad to a square first
};

enum class CropRounding {
  kFloor,         // transformers: (h − crop) // 2
  kRoundHalfEven  // torchvision: int(round((h − crop) / 2))
};

struct PreprocessSpec {
  std::string name;            // "clip", "dino"
  int64_t resize_shortest = 224;
  int64_t crop_size = 224;
  CropRounding crop_rounding = CropRounding::kFloor;
  // As written in the upstream configs; cast to float32 where used, as
  // numpy and torchvision do.
  std::array<double, 3> mean{};
  std::array<double, 3> stddev{};
  Framing framing = Framing::kCenterCrop;
  std::array<uint8_t, 3> pad_rgb{0, 0, 0};  // letterbox colour

  // e.g. "clip: rgb, resize shortest 224 pil-bicubic uint8, center-crop 224 floor, /255,
  // mean [0.48145466, 0.4578275, 0.40821073], std [0.26862954, 0.26130258, 0.27577711]";
  // with letterbox: "..., letterbox #000000, resize ...". Stable: a cache key part.
  std::string Describe() const;
};

PreprocessSpec ClipPreprocessing(Framing framing = Framing::kCenterCrop, std::array<uint8_t, 3> pad_rgb = {0, 0, 0});
PreprocessSpec DinoPreprocessing(Framing framing = Framing::kCenterCrop, std::array<uint8_t, 3> pad_rgb = {0, 0, 0});

// Parses the framing of a request: "crop" or "letterbox" (pad black) or
// "letterbox:#rrggbb". INVALID_ARGUMENT names the text.
absl::Status ParseFraming(const std::string& text, PreprocessSpec* spec);

// The uint8 RGB image the normalisation sees: crop_size × crop_size.
absl::StatusOr<Image8> FrameResizeCrop(const Image8& image, const PreprocessSpec& spec);

// [3, crop, crop] float32 pixel values.
absl::StatusOr<at::Tensor> Preprocess(const Image8& image, const PreprocessSpec& spec);
// [N, 3, crop, crop]; images are processed in parallel. The error names the
// index of the first bad image.
absl::StatusOr<at::Tensor> PreprocessBatch(const std::vector<Image8>& images, const PreprocessSpec& spec);

// The resized size (width, height) for a shortest side of `target`, as
// transformers and torchvision compute it (exposed for tests).
std::pair<int64_t, int64_t> ShortestSideSize(int64_t width, int64_t height, int64_t target);
// The offset of a centre crop of `crop` in `size` (exposed for tests).
int64_t CropOffset(int64_t size, int64_t crop, CropRounding rounding);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_IMAGE_PREPROCESS_H_

#include "evaluator/image_preprocess.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "evaluator/pil_resample.h"

namespace dreamshot::evaluator {
namespace {

std::string Triple(const std::array<double, 3>& v) {
  return absl::StrFormat("[%.10g, %.10g, %.10g]", v[0], v[1], v[2]);
}

// Pads to a max(w, h) square, the image centred (its offset rounded down).
Image8 Letterbox(const Image8& rgb, const std::array<uint8_t, 3>& pad) {
  const int64_t side = std::max(rgb.width, rgb.height);
  Image8 out{side, side, 3, std::vector<uint8_t>(static_cast<size_t>(side * side * 3))};
  for (size_t i = 0; i < out.pixels.size(); i += 3) std::memcpy(&out.pixels[i], pad.data(), 3);
  const int64_t left = (side - rgb.width) / 2, top = (side - rgb.height) / 2;
  for (int64_t y = 0; y < rgb.height; ++y) {
    std::memcpy(&out.pixels[((top + y) * side + left) * 3], &rgb.pixels[y * rgb.width * 3],
                static_cast<size_t>(rgb.width * 3));
  }
  return out;
}

Image8 Crop(const Image8& image, int64_t left, int64_t top, int64_t size) {
  Image8 out{size, size, image.channels, std::vector<uint8_t>(static_cast<size_t>(size * size * image.channels))};
  const int64_t row = size * image.channels;
  for (int64_t y = 0; y < size; ++y) {
    std::memcpy(&out.pixels[y * row], &image.pixels[((top + y) * image.width + left) * image.channels],
                static_cast<size_t>(row));
  }
  return out;
}

// Writes [3, S, S] float32 values of an S × S RGB image into `out`.
void Normalise(const Image8& rgb, const PreprocessSpec& spec, float* out) {
  const int64_t plane = rgb.width * rgb.height;
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(spec.mean[c]), stddev = static_cast<float>(spec.stddev[c]);
    float* dst = out + c * plane;
    for (int64_t i = 0; i < plane; ++i) {
      // transformers rescales in float64 and casts to float32, then
      // normalises in float32 (torchvision divides in float32: the same
      // correctly rounded v/255 up to one ulp).
      const float v = static_cast<float>(rgb.pixels[i * 3 + c] * (1.0 / 255.0));
      dst[i] = (v - mean) / stddev;
    }
  }
}

absl::Status CheckSpec(const PreprocessSpec& spec) {
  if (spec.resize_shortest <= 0 || spec.crop_size <= 0 || spec.crop_size > spec.resize_shortest) {
    return absl::InvalidArgumentError(absl::StrCat("preprocessing '", spec.name, "': resize ", spec.resize_shortest,
                                                   " and crop ", spec.crop_size, " (need 0 < crop <= resize)"));
  }
  for (double s : spec.stddev) {
    if (!(s > 0)) return absl::InvalidArgumentError(absl::StrCat("preprocessing '", spec.name, "': std ", s));
  }
  return absl::OkStatus();
}

}  // namespace

std::string PreprocessSpec::Describe() const {
  std::string out = absl::StrCat(name, ": rgb, ");
  if (framing == Framing::kLetterbox) {
    absl::StrAppend(&out, absl::StrFormat("letterbox #%02x%02x%02x, ", pad_rgb[0], pad_rgb[1], pad_rgb[2]));
  }
  absl::StrAppend(&out, "resize shortest ", resize_shortest, " pil-bicubic uint8, center-crop ", crop_size,
                  crop_rounding == CropRounding::kFloor ? " floor" : " round-half-even", ", /255, mean ",
                  Triple(mean), ", std ", Triple(stddev));
  return out;
}

PreprocessSpec ClipPreprocessing(Framing framing, std::array<uint8_t, 3> pad_rgb) {
  return {"clip", 224, 224, CropRounding::kFloor, {0.48145466, 0.4578275, 0.40821073},
          {0.26862954, 0.26130258, 0.27577711}, framing, pad_rgb};
}

PreprocessSpec DinoPreprocessing(Framing framing, std::array<uint8_t, 3> pad_rgb) {
  return {"dino", 256, 224, CropRounding::kRoundHalfEven, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225},
          framing, pad_rgb};
}

absl::Status ParseFraming(const std::string& text, PreprocessSpec* spec) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "crop" || t == "center-crop") {
    spec->framing = Framing::kCenterCrop;
    return absl::OkStatus();
  }
  if (t == "letterbox") {
    spec->framing = Framing::kLetterbox;
    spec->pad_rgb = {0, 0, 0};
    return absl::OkStatus();
  }
  uint32_t rgb = 0;
  if (absl::StartsWith(t, "letterbox:#") && t.size() == 17 && absl::SimpleHexAtoi(t.substr(11), &rgb)) {
    spec->framing = Framing::kLetterbox;
    spec->pad_rgb = {static_cast<uint8_t>(rgb >> 16), static_cast<uint8_t>(rgb >> 8), static_cast<uint8_t>(rgb)};
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("framing '", text, "': expected crop, letterbox or letterbox:#rrggbb"));
}

std::pair<int64_t, int64_t> ShortestSideSize(int64_t width, int64_t height, int64_t target) {
  const bool portrait = width <= height;
  const int64_t shortest = portrait ? width : height, longest = portrait ? height : width;
  if (shortest == target) return {width, height};
  // Python's int(target * long / short): an exact product, a float
  // division, truncation.
  const auto other = static_cast<int64_t>(static_cast<double>(target * longest) / static_cast<double>(shortest));
  return portrait ? std::make_pair(target, other) : std::make_pair(other, target);
}

int64_t CropOffset(int64_t size, int64_t crop, CropRounding rounding) {
  const int64_t d = size - crop;
  const int64_t half = d / 2;  // d >= 0
  if (rounding == CropRounding::kFloor || d % 2 == 0) return half;
  return half % 2 == 0 ? half : half + 1;  // x.5 to the even neighbour
}

absl::StatusOr<Image8> FrameResizeCrop(const Image8& image, const PreprocessSpec& spec) {
  RETURN_IF_ERROR(CheckImage8(image));
  RETURN_IF_ERROR(CheckSpec(spec));
  Image8 rgb = ToRgb(image);
  if (spec.framing == Framing::kLetterbox) rgb = Letterbox(rgb, spec.pad_rgb);
  const auto [width, height] = ShortestSideSize(rgb.width, rgb.height, spec.resize_shortest);
  if (width < spec.crop_size || height < spec.crop_size) {
    return absl::InvalidArgumentError(absl::StrCat("a ", image.width, "×", image.height,
                                                   " image is too narrow to resize to a shortest side of ",
                                                   spec.resize_shortest));
  }
  ASSIGN_OR_RETURN(Image8 resized, ResizeBicubic(rgb, width, height));
  return Crop(resized, CropOffset(width, spec.crop_size, spec.crop_rounding),
              CropOffset(height, spec.crop_size, spec.crop_rounding), spec.crop_size);
}

absl::StatusOr<at::Tensor> Preprocess(const Image8& image, const PreprocessSpec& spec) {
  ASSIGN_OR_RETURN(Image8 framed, FrameResizeCrop(image, spec));
  at::Tensor out = torch::empty({3, spec.crop_size, spec.crop_size}, torch::kFloat);
  Normalise(framed, spec, out.data_ptr<float>());
  return out;
}

absl::StatusOr<at::Tensor> PreprocessBatch(const std::vector<Image8>& images, const PreprocessSpec& spec) {
  RETURN_IF_ERROR(CheckSpec(spec));
  if (images.empty()) return absl::InvalidArgumentError("no images to preprocess");
  const int64_t n = static_cast<int64_t>(images.size()), s = spec.crop_size;
  at::Tensor out = torch::empty({n, 3, s, s}, torch::kFloat);
  float* data = out.data_ptr<float>();
  std::vector<absl::Status> status(images.size());
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      absl::StatusOr<Image8> framed = FrameResizeCrop(images[i], spec);
      if (!framed.ok()) {
        status[i] = framed.status();
        continue;
      }
      Normalise(*framed, spec, data + i * 3 * s * s);
    }
  });
  for (size_t i = 0; i < status.size(); ++i) {
    if (!status[i].ok()) {
      return absl::Status(status[i].code(), absl::StrCat("image ", i, ": ", status[i].message()));
    }
  }
  return out;
}

}  // namespace dreamshot::evaluator

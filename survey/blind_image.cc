#include "survey/blind_image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <vector>

#include "absl/strings/str_cat.h"
#include "core/png.h"

namespace dreamshot::survey {
namespace {

// 8-bit RGB from our decoder's grey, RGB or RGBA (alpha over white).
core::PngImage ToRgb(const core::PngImage& in) {
  core::PngImage out;
  out.width = in.width;
  out.height = in.height;
  out.channels = 3;
  const size_t pixels = static_cast<size_t>(in.width * in.height);
  out.pixels.resize(pixels * 3);
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = in.pixels.data() + i * in.channels;
    for (int c = 0; c < 3; ++c) {
      const int value = in.channels == 1 ? p[0] : p[c];
      if (in.channels == 4) {
        // value·α + 255·(1 − α), rounded.
        out.pixels[i * 3 + c] = static_cast<uint8_t>((value * p[3] + 255 * (255 - p[3]) + 127) / 255);
      } else {
        out.pixels[i * 3 + c] = static_cast<uint8_t>(value);
      }
    }
  }
  return out;
}

// Formats our decoder does not take (palette, 16-bit, JPEG, ...).
absl::StatusOr<core::PngImage> DecodeOther(absl::string_view stored) {
  const std::vector<uint8_t> buffer(stored.begin(), stored.end());
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode the picture: ", e.msg));
  }
  if (decoded.empty()) return absl::InvalidArgumentError("the stored artifact is not a picture");
  if (decoded.depth() != CV_8U) {
    const double scale = decoded.depth() == CV_16U ? 1.0 / 257 : 1.0;
    decoded.convertTo(decoded, CV_8U, scale);
  }
  cv::Mat rgba;
  switch (decoded.channels()) {
    case 1: cv::cvtColor(decoded, rgba, cv::COLOR_GRAY2RGBA); break;
    case 3: cv::cvtColor(decoded, rgba, cv::COLOR_BGR2RGBA); break;
    case 4: cv::cvtColor(decoded, rgba, cv::COLOR_BGRA2RGBA); break;
    default: return absl::InvalidArgumentError(absl::StrCat("a picture with ", decoded.channels(), " channels"));
  }
  core::PngImage image;
  image.width = rgba.cols;
  image.height = rgba.rows;
  image.channels = 4;
  image.pixels.assign(rgba.data, rgba.data + rgba.total() * 4);
  return image;
}

}  // namespace

absl::StatusOr<std::string> BlindImagePng(absl::string_view stored) {
  absl::StatusOr<core::PngImage> decoded = core::DecodePng(stored);
  if (!decoded.ok()) decoded = DecodeOther(stored);
  if (!decoded.ok()) return decoded.status();
  // Text chunks are dropped here: ToRgb copies pixels only.
  return core::EncodePng(ToRgb(*decoded));
}

absl::StatusOr<BlindImageCache::Png> BlindImageCache::Get(
    int64_t artifact_id, const std::function<absl::StatusOr<std::string>()>& read_stored) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = index_.find(artifact_id); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Encoded outside the lock: two requests for the same new picture may
  // both encode it (same bytes), which is cheaper than serialising all.
  absl::StatusOr<std::string> stored = read_stored();
  if (!stored.ok()) return stored.status();
  absl::StatusOr<std::string> blind = BlindImagePng(*stored);
  if (!blind.ok()) return blind.status();
  Png png = std::make_shared<const std::string>(std::move(*blind));
  std::lock_guard<std::mutex> lock(mutex_);
  if (index_.count(artifact_id) == 0 && png->size() <= max_bytes_) {
    lru_.emplace_front(artifact_id, png);
    index_[artifact_id] = lru_.begin();
    bytes_ += png->size();
    while (bytes_ > max_bytes_) {
      bytes_ -= lru_.back().second->size();
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }
  return png;
}

}  // namespace dreamshot::survey

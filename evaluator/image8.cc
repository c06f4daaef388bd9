#include "evaluator/image8.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/png.h"

namespace dreamshot::evaluator {

absl::Status CheckImage8(const Image8& image) {
  if (image.width <= 0 || image.height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("image of ", image.width, "×", image.height, " pixels"));
  }
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return absl::InvalidArgumentError(absl::StrCat("image with ", image.channels, " channels (1, 3 or 4 expected)"));
  }
  const uint64_t expected = static_cast<uint64_t>(image.width) * static_cast<uint64_t>(image.height) * image.channels;
  if (image.pixels.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("image of ", image.width, "×", image.height, "×", image.channels,
                                                   " holds ", image.pixels.size(), " bytes, expected ", expected));
  }
  return absl::OkStatus();
}

absl::StatusOr<Image8> DecodePngImage(absl::string_view bytes, const std::string& source) {
  absl::StatusOr<core::PngImage> png = core::DecodePng(bytes);
  if (!png.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", png.status().message()));
  png->texts.clear();  // metadata, not pixels
  return *std::move(png);
}

absl::StatusOr<Image8> ReadPngImage(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open image ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat("cannot read image ", path));
  return DecodePngImage(bytes.str(), path);
}

Image8 ToRgb(const Image8& image) {
  if (image.channels == 3) return image;
  Image8 out{image.width, image.height, 3, {}, {}};
  const size_t n = static_cast<size_t>(image.width * image.height);
  out.pixels.resize(n * 3);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      out.pixels[i * 3 + c] = image.pixels[i * image.channels + (image.channels == 1 ? 0 : c)];
    }
  }
  return out;
}

}  // namespace dreamshot::evaluator

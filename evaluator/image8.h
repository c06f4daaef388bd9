// An 8-bit image in memory: row-major, channels interleaved (1 grey, 3 RGB,
// 4 RGBA), as decoded PNGs (core/png.h) and generated images come.
#ifndef DREAMSHOT_EVALUATOR_IMAGE8_H_
#define DREAMSHOT_EVALUATOR_IMAGE8_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/png.h"

namespace dreamshot::evaluator {

// The decoded-PNG type itself (its text chunks unused here), so a decoded
// file needs no conversion.
using Image8 = core::PngImage;

// INVALID_ARGUMENT unless the sizes are positive, channels is 1, 3 or 4
// and pixels holds exactly height · width · channels bytes.
absl::Status CheckImage8(const Image8& image);

// A PNG file's pixels (8-bit grey, RGB or RGBA; core/png.h). Errors name
// `source` (NOT_FOUND for a missing file, INVALID_ARGUMENT for one that is
// not a readable PNG).
absl::StatusOr<Image8> DecodePngImage(absl::string_view bytes, const std::string& source);
absl::StatusOr<Image8> ReadPngImage(const std::string& path);

// PIL's convert("RGB"): grey is replicated, alpha dropped (not composited).
Image8 ToRgb(const Image8& image);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_IMAGE8_H_

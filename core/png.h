// PNG encoding and decoding with text chunks, on zlib alone. OpenCV's
// imencode cannot write text chunks, and generated images carry their
// generation parameters in one ("parameters", as AUTOMATIC1111 writes it,
// which civitai, ComfyUI's readers and image browsers parse).
// Encoding: 8-bit grey, RGB or RGBA, non-interlaced, per-row adaptive
// filters (the libpng heuristic: least sum of absolute values). Text is a
// tEXt chunk when it is Latin-1 and an uncompressed iTXt (UTF-8) otherwise,
// as PIL does. Decoding accepts the same pixel formats with any filters.
#ifndef DREAMSHOT_CORE_PNG_H_
#define DREAMSHOT_CORE_PNG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::core {

struct PngImage {
  int64_t width = 0, height = 0;
  int channels = 3;              // 1 grey, 3 RGB, 4 RGBA
  std::vector<uint8_t> pixels;   // row-major, interleaved, height·width·channels
  std::vector<std::pair<std::string, std::string>> texts;  // keyword → text (UTF-8)
};

// INVALID_ARGUMENT for a size/channel mismatch or a keyword that PNG does
// not allow (1–79 Latin-1 characters).
absl::StatusOr<std::string> EncodePng(const PngImage& image);

// INVALID_ARGUMENT naming what is wrong (signature, CRC, unsupported bit
// depth / colour type / interlace, truncated data).
absl::StatusOr<PngImage> DecodePng(absl::string_view bytes);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PNG_H_

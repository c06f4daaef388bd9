// PNG encoding and decoding with text chunks, through libpng. OpenCV's
// imencode cannot write text chunks, and generated images carry their
// generation parameters in one ("parameters", as AUTOMATIC1111 writes it,
// which civitai, ComfyUI's readers and image browsers parse).
//
// Encoding: 8-bit grey, RGB or RGBA, non-interlaced, libpng's per-row
// adaptive filters (least sum of absolute values), zlib level 6. The file
// holds IHDR, one text chunk per text, a single IDAT and IEND, nothing else
// (no tIME, gAMA, sRGB, pHYs...), so two images of the same size and format
// differ only in their texts and IDAT data: the survey serves pictures
// blinded this way (survey/blind_image.h). The same image gives the same
// bytes. Text is a tEXt chunk when it is Latin-1 and an uncompressed iTXt
// (UTF-8) otherwise, as PIL does.
//
// Decoding accepts the same pixel formats (8-bit grey, RGB, RGBA,
// non-interlaced) with any filters, and reads tEXt, zTXt and iTXt. libpng's
// limit of 1,000,000 pixels in width and height applies to both.
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

// INVALID_ARGUMENT for a size/channel mismatch, a keyword that PNG does not
// allow (1–79 printable Latin-1 characters, no leading, trailing or double
// spaces) or a text holding a NUL byte.
absl::StatusOr<std::string> EncodePng(const PngImage& image);

// INVALID_ARGUMENT naming what is wrong (signature, CRC, unsupported bit
// depth / colour type / interlace, truncated data; libpng's message, with
// the chunk it concerns).
absl::StatusOr<PngImage> DecodePng(absl::string_view bytes);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PNG_H_

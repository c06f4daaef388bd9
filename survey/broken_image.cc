#include "survey/broken_image.h"

#include "absl/strings/str_cat.h"
#include "core/png.h"
#include "core/status_macros.h"

namespace dreamshot::survey {

absl::StatusOr<std::string> BreakImage(absl::string_view png) {
  ASSIGN_OR_RETURN(core::PngImage image, core::DecodePng(png));
  constexpr int kGrid = 4;
  if (image.width < kGrid || image.height < kGrid) {
    return absl::InvalidArgumentError(
        absl::StrCat("an attention-check image needs at least 4 × 4 pixels, got ", image.width, " × ", image.height));
  }
  const int64_t tw = image.width / kGrid, th = image.height / kGrid;
  const int c = image.channels;
  core::PngImage broken = image;
  broken.texts.clear();
  for (int tile = 0; tile < kGrid * kGrid; ++tile) {
    // 7·t + 5 mod 16 is a permutation without fixed points (6·t ≡ 11 mod 16
    // has no solution): every tile lands somewhere else.
    const int from = (7 * tile + 5) % (kGrid * kGrid);
    const int64_t ty = tile / kGrid, tx = tile % kGrid, fy = from / kGrid, fx = from % kGrid;
    const bool invert = (ty + tx) % 2 == 1;
    for (int64_t y = 0; y < th; ++y) {
      for (int64_t x = 0; x < tw; ++x) {
        const uint8_t* src = &image.pixels[((fy * th + y) * image.width + fx * tw + x) * c];
        uint8_t* dst = &broken.pixels[((ty * th + y) * image.width + tx * tw + x) * c];
        for (int k = 0; k < c; ++k) {
          const bool alpha = (c == 4 && k == 3);
          dst[k] = invert && !alpha ? static_cast<uint8_t>(255 - src[k]) : src[k];
        }
      }
    }
  }
  return core::EncodePng(broken);
}

}  // namespace dreamshot::survey

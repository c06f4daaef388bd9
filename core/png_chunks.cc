#include "core/png_chunks.h"

#include <cstdint>

namespace dreamshot::core {

std::vector<std::string> PngChunkTypes(const std::string& png) {
  std::vector<std::string> types;
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(png.data() + at);
    const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    if (length > png.size() - at - 12) break;
    types.push_back(png.substr(at + 4, 4));
    at += 12 + length;
  }
  return types;
}

}  // namespace dreamshot::core

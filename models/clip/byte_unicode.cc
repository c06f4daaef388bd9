#include "models/clip/byte_unicode.h"

#include <cstddef>

namespace dreamshot::models::clip {
namespace {

bool IsPrintableLatin1(uint32_t b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

}  // namespace

std::array<char32_t, 256> ByteToUnicode() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) table[b] = IsPrintableLatin1(b) ? b : next++;
  return table;
}

int UnicodeToByte(char32_t c) {
  if (c < 256) return IsPrintableLatin1(c) ? static_cast<int>(c) : -1;
  if (c >= 256 + 68) return -1;
  // The n-th non-printable byte (in byte order) maps to 256 + n.
  uint32_t n = c - 256;
  for (uint32_t b = 0; b < 256; ++b) {
    if (!IsPrintableLatin1(b) && n-- == 0) return static_cast<int>(b);
  }
  return -1;
}

std::array<uint8_t, 256> BytesInTableOrder() {
  std::array<uint8_t, 256> order{};
  size_t k = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    if (IsPrintableLatin1(b)) order[k++] = static_cast<uint8_t>(b);
  }
  for (uint32_t b = 0; b < 256; ++b) {
    if (!IsPrintableLatin1(b)) order[k++] = static_cast<uint8_t>(b);
  }
  return order;
}

}  // namespace dreamshot::models::clip

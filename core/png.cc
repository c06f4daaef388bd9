#include "core/png.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace dreamshot::core {
namespace {

constexpr char kSignature[] = "\x89PNG\r\n\x1a\n";

void PutU32(std::string* out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out->append(b, 4);
}

uint32_t GetU32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void PutChunk(std::string* out, const char type[4], absl::string_view data) {
  PutU32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out->size();
  out->append(type, 4);
  out->append(data.data(), data.size());
  const uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(out->data() + start), out->size() - start);
  PutU32(out, crc);
}

// UTF-8 → Latin-1 when every code point fits; false otherwise.
bool ToLatin1(absl::string_view utf8, std::string* latin1) {
  latin1->clear();
  for (size_t i = 0; i < utf8.size(); ++i) {
    const unsigned char c = utf8[i];
    if (c < 0x80) {
      latin1->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
      latin1->push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
    } else {
      return false;
    }
  }
  return true;
}

std::string Latin1ToUtf8(absl::string_view latin1) {
  std::string out;
  for (unsigned char c : latin1) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

uint8_t Paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<uint8_t>(a);
  return static_cast<uint8_t>(pb <= pc ? b : c);
}

// The value PNG filter `type` predicts from the left (a), above (b) and
// upper-left (c) bytes.
int Predict(int type, int a, int b, int c) {
  switch (type) {
    case 1: return a;
    case 2: return b;
    case 3: return (a + b) / 2;
    case 4: return Paeth(a, b, c);
    default: return 0;
  }
}

// Filters row `cur` (prev: the row above, or zeros) with `type` into out.
void FilterRow(int type, const uint8_t* cur, const uint8_t* prev, size_t n, int bpp, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    const bool left = i >= static_cast<size_t>(bpp);
    out[i] = static_cast<uint8_t>(cur[i] - Predict(type, left ? cur[i - bpp] : 0, prev[i], left ? prev[i - bpp] : 0));
  }
}

// In place: `cur` holds filtered bytes and becomes the pixels.
void UnfilterRow(int type, uint8_t* cur, const uint8_t* prev, size_t n, int bpp) {
  for (size_t i = 0; i < n; ++i) {
    const bool left = i >= static_cast<size_t>(bpp);
    cur[i] = static_cast<uint8_t>(cur[i] + Predict(type, left ? cur[i - bpp] : 0, prev[i], left ? prev[i - bpp] : 0));
  }
}

int ColourType(int channels) { return channels == 1 ? 0 : channels == 3 ? 2 : 6; }

}  // namespace

absl::StatusOr<std::string> EncodePng(const PngImage& image) {
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: channels must be 1, 3 or 4, got ", image.channels));
  }
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width * image.height * image.channels)) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", image.width, "×", image.height, "×", image.channels,
                                                   " does not match ", image.pixels.size(), " pixel bytes"));
  }
  std::string out(kSignature, 8);
  std::string ihdr;
  PutU32(&ihdr, static_cast<uint32_t>(image.width));
  PutU32(&ihdr, static_cast<uint32_t>(image.height));
  ihdr += {8, static_cast<char>(ColourType(image.channels)), 0, 0, 0};
  PutChunk(&out, "IHDR", ihdr);
  for (const auto& [keyword, text] : image.texts) {
    std::string key, value;
    if (keyword.empty() || keyword.size() > 79 || !ToLatin1(keyword, &key)) {
      return absl::InvalidArgumentError(absl::StrCat("PNG: text keyword \"", keyword, "\" must be 1–79 Latin-1 characters"));
    }
    if (ToLatin1(text, &value)) {
      PutChunk(&out, "tEXt", absl::StrCat(key, std::string(1, '\0'), value));
    } else {
      // keyword, NUL, compression flag 0, method 0, empty language, NUL, empty translated keyword, NUL, UTF-8 text
      PutChunk(&out, "iTXt", absl::StrCat(key, std::string("\0\0\0\0\0", 5), text));
    }
  }
  const size_t row = static_cast<size_t>(image.width) * image.channels;
  std::vector<uint8_t> filtered((row + 1) * image.height), zeros(row, 0), candidate(row);
  for (int64_t y = 0; y < image.height; ++y) {
    const uint8_t* cur = image.pixels.data() + y * row;
    const uint8_t* prev = y > 0 ? cur - row : zeros.data();
    uint8_t* dst = filtered.data() + y * (row + 1);
    uint64_t best = UINT64_MAX;
    for (int type = 0; type < 5; ++type) {
      FilterRow(type, cur, prev, row, image.channels, candidate.data());
      uint64_t cost = 0;
      for (uint8_t v : candidate) cost += v < 128 ? v : 256 - v;
      if (cost < best) {
        best = cost;
        dst[0] = static_cast<uint8_t>(type);
        std::memcpy(dst + 1, candidate.data(), row);
      }
    }
  }
  uLongf compressed_size = compressBound(filtered.size());
  std::string compressed(compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&compressed[0]), &compressed_size, filtered.data(), filtered.size(), 6) !=
      Z_OK) {
    return absl::InternalError("PNG: zlib compression failed");
  }
  compressed.resize(compressed_size);
  PutChunk(&out, "IDAT", compressed);
  PutChunk(&out, "IEND", "");
  return out;
}

absl::StatusOr<PngImage> DecodePng(absl::string_view bytes) {
  if (bytes.size() < 8 || bytes.substr(0, 8) != absl::string_view(kSignature, 8)) {
    return absl::InvalidArgumentError("PNG: not a PNG file (bad signature)");
  }
  PngImage image;
  std::string idat;
  bool have_header = false;
  size_t pos = 8;
  while (true) {
    if (pos + 12 > bytes.size()) return absl::InvalidArgumentError("PNG: truncated chunk");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos);
    const uint32_t length = GetU32(p);
    if (pos + 12 + static_cast<size_t>(length) > bytes.size()) return absl::InvalidArgumentError("PNG: truncated chunk");
    const absl::string_view type = bytes.substr(pos + 4, 4);
    const absl::string_view data = bytes.substr(pos + 8, length);
    const uint32_t crc = crc32(0, p + 4, length + 4);
    if (crc != GetU32(p + 8 + length)) return absl::InvalidArgumentError(absl::StrCat("PNG: bad CRC in ", type, " chunk"));
    pos += 12 + length;
    if (type == "IHDR") {
      if (length != 13) return absl::InvalidArgumentError("PNG: bad IHDR");
      const auto* d = reinterpret_cast<const unsigned char*>(data.data());
      image.width = GetU32(d);
      image.height = GetU32(d + 4);
      const int depth = d[8], colour = d[9], interlace = d[12];
      if (depth != 8 || interlace != 0 || (colour != 0 && colour != 2 && colour != 6)) {
        return absl::InvalidArgumentError(absl::StrCat("PNG: unsupported format (bit depth ", depth, ", colour type ",
                                                       colour, ", interlace ", interlace, "); 8-bit grey/RGB/RGBA only"));
      }
      image.channels = colour == 0 ? 1 : colour == 2 ? 3 : 4;
      have_header = true;
    } else if (type == "IDAT") {
      idat.append(data.data(), data.size());
    } else if (type == "tEXt") {
      const size_t nul = data.find('\0');
      if (nul == absl::string_view::npos) return absl::InvalidArgumentError("PNG: bad tEXt chunk");
      image.texts.emplace_back(Latin1ToUtf8(data.substr(0, nul)), Latin1ToUtf8(data.substr(nul + 1)));
    } else if (type == "iTXt") {
      const size_t nul = data.find('\0');
      if (nul == absl::string_view::npos || nul + 3 > data.size() || data[nul + 1] != 0) {
        return absl::InvalidArgumentError("PNG: bad or compressed iTXt chunk");
      }
      const size_t lang_end = data.find('\0', nul + 3);
      const size_t key_end = lang_end == absl::string_view::npos ? lang_end : data.find('\0', lang_end + 1);
      if (key_end == absl::string_view::npos) return absl::InvalidArgumentError("PNG: bad iTXt chunk");
      image.texts.emplace_back(Latin1ToUtf8(data.substr(0, nul)), std::string(data.substr(key_end + 1)));
    } else if (type == "IEND") {
      break;
    }
  }
  if (!have_header) return absl::InvalidArgumentError("PNG: no IHDR chunk");
  const size_t row = static_cast<size_t>(image.width) * image.channels;
  std::vector<uint8_t> raw((row + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_size != raw.size()) {
    return absl::InvalidArgumentError("PNG: image data does not inflate to width × height");
  }
  image.pixels.resize(row * image.height);
  std::vector<uint8_t> zeros(row, 0);
  for (int64_t y = 0; y < image.height; ++y) {
    const int filter = raw[y * (row + 1)];
    if (filter > 4) return absl::InvalidArgumentError(absl::StrCat("PNG: bad filter type ", filter, " in row ", y));
    uint8_t* cur = image.pixels.data() + y * row;
    std::memcpy(cur, raw.data() + y * (row + 1) + 1, row);
    UnfilterRow(filter, cur, y > 0 ? cur - row : zeros.data(), row, image.channels);
  }
  return image;
}

}  // namespace dreamshot::core

#include "core/png.h"

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace dreamshot::core {
namespace {

// libpng reports an error by calling OnError, which must not return: it
// longjmps back to the setjmp of the function that made the libpng call.
// Frames a longjmp skips must not own C++ objects (their destructors would
// not run), so the libpng calls that can fail sit in the *Steps functions
// below, which hold plain pointers only; what they fill belongs to their
// callers.
struct PngIo {
  const unsigned char* in = nullptr;  // reading: the file
  size_t in_size = 0;
  size_t in_pos = 0;
  std::string* out = nullptr;  // writing: the file so far
  char error[200] = "";        // libpng's message for the error that stopped it
};

void OnError(png_structp png, png_const_charp message) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->error, sizeof(io->error), "%s", message);
  png_longjmp(png, 1);
}

// Warnings are about problems libpng recovers from without changing the
// pixels (e.g. surplus image data); nobody could act on them.
void OnWarning(png_structp, png_const_charp) {}

void ReadBytes(png_structp png, png_bytep data, size_t size) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (size > io->in_size - io->in_pos) png_error(png, "truncated data");
  std::memcpy(data, io->in + io->in_pos, size);
  io->in_pos += size;
}

void WriteBytes(png_structp png, png_bytep data, size_t size) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  bool out_of_memory = false;
  try {
    io->out->append(reinterpret_cast<const char*>(data), size);
  } catch (const std::bad_alloc&) {
    out_of_memory = true;
  }
  // Outside the handler: a longjmp must not leave a catch block.
  if (out_of_memory) png_error(png, "out of memory");
}

void FlushNothing(png_structp) {}

// A libpng read or write struct and its info struct, destroyed together.
class PngStructs {
 public:
  enum class Mode { kRead, kWrite };
  PngStructs(Mode mode, PngIo* io)
      : write_(mode == Mode::kWrite),
        png_(write_ ? png_create_write_struct(PNG_LIBPNG_VER_STRING, io, OnError, OnWarning)
                    : png_create_read_struct(PNG_LIBPNG_VER_STRING, io, OnError, OnWarning)),
        info_(png_ != nullptr ? png_create_info_struct(png_) : nullptr) {}
  ~PngStructs() {
    if (write_) {
      png_destroy_write_struct(&png_, &info_);
    } else {
      png_destroy_read_struct(&png_, &info_, nullptr);
    }
  }
  PngStructs(const PngStructs&) = delete;
  PngStructs& operator=(const PngStructs&) = delete;

  bool ok() const { return info_ != nullptr; }
  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  const bool write_;
  png_structp png_;
  png_infop info_;
};

// The chunks up to the first IDAT. False when libpng failed (io->error).
bool ReadHeaderSteps(png_structp png, png_infop info, PngIo* io) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, io, ReadBytes);
  // A bad CRC is an error in any chunk, not only in critical ones: a damaged
  // "parameters" text must not pass for an image without one.
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  png_read_info(png, info);
  return true;
}

// The pixels into `rows` and the chunks after them up to IEND.
bool ReadPixelsSteps(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

struct WriteSpec {
  png_uint_32 width;
  png_uint_32 height;
  int colour_type;
  png_textp texts;
  int text_count;
  png_bytepp rows;
  size_t idat_size;
};

bool WriteSteps(png_structp png, png_infop info, PngIo* io, const WriteSpec* spec) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, io, WriteBytes, FlushNothing);
  png_set_IHDR(png, info, spec->width, spec->height, 8, spec->colour_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
  png_set_compression_level(png, 6);
  // libpng cuts IDAT chunks at its compression buffer's size (8 KiB by
  // default), so the chunk count would follow the compressed size; a buffer
  // that holds all of it gives one IDAT whatever the pixels.
  png_set_compression_buffer_size(png, spec->idat_size);
  if (spec->text_count > 0) png_set_text(png, info, spec->texts, spec->text_count);
  // Only IHDR and the texts are set on `info`: libpng writes no other
  // ancillary chunk unless asked (tIME only from png_set_tIME).
  png_write_info(png, info);
  png_write_image(png, spec->rows);
  png_write_end(png, nullptr);  // nullptr: no chunk after the image data
  return true;
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

// A keyword as PNG defines it: 1–79 printable Latin-1 characters, no
// leading, trailing or consecutive spaces. libpng would quietly rewrite any
// other keyword, and the text would not read back under its name.
bool ValidKeyword(absl::string_view latin1) {
  if (latin1.empty() || latin1.size() > 79 || latin1.front() == ' ' || latin1.back() == ' ') return false;
  for (size_t i = 0; i < latin1.size(); ++i) {
    const unsigned char c = latin1[i];
    if (c < 32 || (c > 126 && c < 161)) return false;
    if (c == ' ' && latin1[i - 1] == ' ') return false;
  }
  return true;
}

int ColourType(int channels) {
  return channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA;
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const PngImage& image) {
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: channels must be 1, 3 or 4, got ", image.channels));
  }
  if (image.width <= 0 || image.height <= 0 || image.width > PNG_UINT_31_MAX || image.height > PNG_UINT_31_MAX ||
      image.pixels.size() != static_cast<size_t>(image.width * image.height * image.channels)) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", image.width, "×", image.height, "×", image.channels,
                                                   " does not match ", image.pixels.size(), " pixel bytes"));
  }
  // Keywords in Latin-1; values in Latin-1 (tEXt) or UTF-8 (iTXt). libpng
  // keeps pointers into these until it has written them.
  std::vector<std::string> keys(image.texts.size()), values(image.texts.size());
  std::vector<png_text> texts(image.texts.size());
  size_t text_bytes = 0;
  for (size_t i = 0; i < image.texts.size(); ++i) {
    const auto& [keyword, text] = image.texts[i];
    if (!ToLatin1(keyword, &keys[i]) || !ValidKeyword(keys[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PNG: text keyword \"", keyword,
          "\" must be 1–79 printable Latin-1 characters without leading, trailing or double spaces"));
    }
    if (text.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("PNG: text \"", keyword, "\" holds a NUL byte"));
    }
    const bool latin1 = ToLatin1(text, &values[i]);
    if (!latin1) values[i] = text;
    png_text& t = texts[i];
    std::memset(&t, 0, sizeof(t));
    t.compression = latin1 ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
    t.key = keys[i].data();
    t.text = values[i].data();
    (latin1 ? t.text_length : t.itxt_length) = values[i].size();
    text_bytes += keys[i].size() + values[i].size() + 32;
  }
  const size_t row = static_cast<size_t>(image.width) * image.channels;
  std::vector<png_bytep> rows(image.height);
  for (int64_t y = 0; y < image.height; ++y) {
    // libpng copies each row before filtering it: the pixels stay untouched.
    rows[y] = const_cast<png_bytep>(image.pixels.data() + y * row);
  }
  // Room for the whole deflate stream (zlib's bound for the filtered rows,
  // plus slack), capped at PNG's largest chunk.
  const size_t filtered = (row + 1) * image.height;
  const size_t idat_size = std::min<size_t>(compressBound(filtered) + 1024, PNG_UINT_31_MAX);

  std::string out;
  out.reserve(idat_size + text_bytes + 64);
  PngIo io;
  io.out = &out;
  PngStructs writer(PngStructs::Mode::kWrite, &io);
  if (!writer.ok()) return absl::ResourceExhaustedError("PNG: libpng cannot allocate its writer");
  const WriteSpec spec = {static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height),
                          ColourType(image.channels), texts.data(), static_cast<int>(texts.size()), rows.data(),
                          idat_size};
  if (!WriteSteps(writer.png(), writer.info(), &io, &spec)) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", io.error));
  }
  return out;
}

absl::StatusOr<PngImage> DecodePng(absl::string_view bytes) {
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0) {
    return absl::InvalidArgumentError("PNG: not a PNG file (bad signature)");
  }
  PngIo io;
  io.in = reinterpret_cast<const unsigned char*>(bytes.data());
  io.in_size = bytes.size();
  PngStructs reader(PngStructs::Mode::kRead, &io);
  if (!reader.ok()) return absl::ResourceExhaustedError("PNG: libpng cannot allocate its reader");
  if (!ReadHeaderSteps(reader.png(), reader.info(), &io)) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", io.error));
  }
  const png_uint_32 width = png_get_image_width(reader.png(), reader.info());
  const png_uint_32 height = png_get_image_height(reader.png(), reader.info());
  const int depth = png_get_bit_depth(reader.png(), reader.info());
  const int colour = png_get_color_type(reader.png(), reader.info());
  const int interlace = png_get_interlace_type(reader.png(), reader.info());
  if (depth != 8 || interlace != PNG_INTERLACE_NONE ||
      (colour != PNG_COLOR_TYPE_GRAY && colour != PNG_COLOR_TYPE_RGB && colour != PNG_COLOR_TYPE_RGB_ALPHA)) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: unsupported format (bit depth ", depth, ", colour type ",
                                                   colour, ", interlace ", interlace, "); 8-bit grey/RGB/RGBA only"));
  }
  PngImage image;
  image.width = width;
  image.height = height;
  image.channels = colour == PNG_COLOR_TYPE_GRAY ? 1 : colour == PNG_COLOR_TYPE_RGB ? 3 : 4;
  const size_t row = static_cast<size_t>(width) * image.channels;
  // deflate packs at most 1032 bytes into one: a file too small to hold the
  // pixels its IHDR announces is refused before they are allocated (up to
  // 4 TB for 1,000,000 × 1,000,000 RGBA).
  if ((static_cast<uint64_t>(row) + 1) * height / 1032 > bytes.size()) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", width, "×", height, "×", image.channels,
                                                   " pixels cannot fit in ", bytes.size(), " bytes (truncated data)"));
  }
  image.pixels.resize(row * height);
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = image.pixels.data() + y * row;
  if (!ReadPixelsSteps(reader.png(), reader.info(), rows.data())) {
    return absl::InvalidArgumentError(absl::StrCat("PNG: ", io.error));
  }
  png_textp texts = nullptr;
  const int count = png_get_text(reader.png(), reader.info(), &texts, nullptr);
  for (int i = 0; i < count; ++i) {
    const png_text& t = texts[i];
    // tEXt and zTXt hold Latin-1, iTXt (compressed or not) UTF-8.
    const bool utf8 = t.compression >= PNG_ITXT_COMPRESSION_NONE;
    const absl::string_view value = t.text == nullptr ? "" : absl::string_view(t.text, utf8 ? t.itxt_length : t.text_length);
    image.texts.emplace_back(Latin1ToUtf8(t.key), utf8 ? std::string(value) : Latin1ToUtf8(value));
  }
  return image;
}

}  // namespace dreamshot::core

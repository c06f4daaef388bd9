// Torch-free parsing and validation of the safetensors container format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON
//   {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}}
// and the data section, to which the offsets are relative.
//
// ParseSafetensorsHeader() accepts a file only if reading every tensor it
// describes stays inside the buffer and the tensors tile the data section
// exactly, so callers can index the bytes without further checks.
//
// Error scheme (every message names the file and, where there is one, the
// tensor or metadata key):
//   DATA_LOSS         the file is shorter than it says it is (truncation):
//                     fewer than 8 bytes, header length past the end of the
//                     file, a tensor's data_offsets past the end of the file.
//   INVALID_ARGUMENT  everything else: header length 0 or > 100,000,000
//                     (upstream's limit), JSON malformed / not an object /
//                     duplicate keys, entry not an object, missing or
//                     mistyped fields, unknown dtype, shape dims negative or
//                     not integers, shape product x dtype size overflowing or
//                     not equal to the byte length, data_offsets not two
//                     non-negative integers or reversed, overlapping ranges,
//                     gaps between ranges or trailing bytes after the last,
//                     __metadata__ not a {str: str} object.
// Unknown fields inside a tensor entry are ignored (as upstream does).
// Tensor names may be any string except "__metadata__"; "" is allowed.
#ifndef DREAMSHOT_CORE_SAFETENSORS_FORMAT_H_
#define DREAMSHOT_CORE_SAFETENSORS_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::core {

// All upstream dtypes; the torch side loads the first ten (LibTorch 1.13 has
// no unsigned 16/32/64-bit or float8 types) and answers UNIMPLEMENTED for the
// rest, while the parser accepts them so the other tensors stay readable.
enum class SafetensorsDtype {
  kF64,
  kF32,
  kF16,
  kBF16,
  kI64,
  kI32,
  kI16,
  kI8,
  kU8,
  kBool,
  kU64,
  kU32,
  kU16,
  kF8E4M3,
  kF8E5M2,
};

// "F32" -> kF32 etc.; false for anything else.
bool ParseSafetensorsDtype(absl::string_view text, SafetensorsDtype* dtype);
// kF32 -> "F32" (the spelling in the file).
const char* SafetensorsDtypeName(SafetensorsDtype dtype);
size_t SafetensorsDtypeSize(SafetensorsDtype dtype);  // bytes per element
// Upstream's serialisation order key (its Rust Dtype enum order): the writer
// lays tensors out by descending rank, then name, so every tensor starts at a
// multiple of its element size.
int SafetensorsDtypeRank(SafetensorsDtype dtype);

struct SafetensorsEntry {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;  // every dim in [0, INT64_MAX]; {} is 0-dim
  // Absolute byte offsets within the file: [begin, end), begin <= end <= file size.
  uint64_t begin = 0;
  uint64_t end = 0;

  uint64_t num_bytes() const { return end - begin; }
  int64_t num_elements() const;  // product of shape (1 for 0-dim)
};

struct SafetensorsHeader {
  uint64_t header_size = 0;  // N, the JSON length
  uint64_t data_start = 0;   // 8 + N
  uint64_t file_size = 0;
  // In file (data offset) order.
  std::vector<SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;
  // name -> index into entries.
  std::map<std::string, size_t, std::less<>> index;

  // nullptr when absent.
  const SafetensorsEntry* Find(absl::string_view name) const;
};

// Upstream's MAX_HEADER_SIZE.
inline constexpr uint64_t kMaxSafetensorsHeaderSize = 100'000'000;

// Parses and validates `file_bytes` (the whole file). Never reads outside
// `file_bytes`; see the error scheme above.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view file_bytes,
                                                         absl::string_view file_name_for_errors);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_SAFETENSORS_FORMAT_H_

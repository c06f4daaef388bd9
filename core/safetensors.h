// Reading and writing safetensors files as LibTorch tensors.
//
// SafetensorsFile memory-maps the file and hands out tensors that are views
// on the mapping when nothing needs converting (CPU, same dtype, data aligned
// to the element size): no copy, no read until a page is touched. The mapping
// lives as long as any tensor viewing it (a shared_ptr in the tensor's
// deleter), so tensors may outlive the SafetensorsFile.
//
// Memory semantics of zero-copy tensors: the file is opened read-only and
// mapped MAP_PRIVATE (copy-on-write), so in-place ops on a loaded tensor work
// and never reach the file (the touched pages become private memory). Two
// zero-copy Loads of the same name from one SafetensorsFile alias each other;
// clone() when an independent tensor is needed. The data is little-endian
// (as upstream); this code assumes a little-endian host. BOOL bytes are
// taken as stored (upstream writes 0 and 1).
//
// Copies happen when a dtype conversion or another device is asked for (one
// copy: the conversion reads the mapping directly) and when upstream's
// unaligned offsets leave a tensor misaligned for its element type (a plain
// memcpy into a fresh tensor, then any conversion).
//
// Errors: NOT_FOUND for a missing file or tensor name (naming the path and the
// tensor), INVALID_ARGUMENT / DATA_LOSS from the format checks
// (core/safetensors_format.h), UNIMPLEMENTED for dtypes LibTorch 1.13 lacks
// (U16/U32/U64/F8), INTERNAL for system-call failures and LibTorch errors.
#ifndef DREAMSHOT_CORE_SAFETENSORS_H_
#define DREAMSHOT_CORE_SAFETENSORS_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/safetensors_format.h"

namespace dreamshot::core {

// The LibTorch type of a safetensors dtype; UNIMPLEMENTED for U16/U32/U64/F8.
absl::StatusOr<c10::ScalarType> ToScalarType(SafetensorsDtype dtype);
// The safetensors dtype of a LibTorch type; INVALID_ARGUMENT for types the
// format has no name for (complex, quantized).
absl::StatusOr<SafetensorsDtype> FromScalarType(c10::ScalarType dtype);

class SafetensorsFile {
 public:
  // Maps and validates `path`. NOT_FOUND (with the path) when it is missing.
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path);

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }
  const std::vector<SafetensorsEntry>& entries() const { return header_.entries; }  // file order
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  std::vector<std::string> names() const;  // sorted
  bool Contains(absl::string_view name) const { return header_.Find(name) != nullptr; }
  // The raw bytes of a tensor inside the mapping (little-endian).
  absl::StatusOr<absl::string_view> RawBytes(absl::string_view name) const;

  // The tensor `name`, converted to `dtype` when given (any dtype, integers
  // included) and placed on `device`. Zero-copy when no conversion, no
  // device transfer and the data is aligned (see the top of this file).
  absl::StatusOr<at::Tensor> Load(absl::string_view name, std::optional<c10::ScalarType> dtype = std::nullopt,
                                  c10::Device device = c10::Device(c10::kCPU)) const;

  // Every tensor by name. `float_dtype` converts floating-point tensors only;
  // integer and bool tensors (token ids, position ids) keep their type, as
  // DeviceSpec prescribes.
  absl::StatusOr<std::map<std::string, at::Tensor>> LoadAll(
      std::optional<c10::ScalarType> float_dtype = std::nullopt, c10::Device device = c10::Device(c10::kCPU)) const;

 private:
  struct Mapping;
  SafetensorsFile(std::string path, std::shared_ptr<const Mapping> mapping, SafetensorsHeader header);
  absl::StatusOr<at::Tensor> LoadEntry(const SafetensorsEntry& entry, std::optional<c10::ScalarType> dtype,
                                       c10::Device device) const;

  std::string path_;
  std::shared_ptr<const Mapping> mapping_;
  SafetensorsHeader header_;
};

// Writes `tensors` (any device, any strides: written as contiguous CPU copies)
// to `path` atomically (temp file in the same folder, fsync, rename, fsync of
// the folder) in upstream's layout: tensors ordered by dtype (wider first,
// upstream's Rust Dtype order) then name, so every tensor is aligned to its
// element size; the header lists __metadata__ (omitted when empty) and then
// the tensors in that order, padded with spaces to a multiple of 8 bytes.
// INVALID_ARGUMENT for duplicate or reserved names ("__metadata__"),
// undefined tensors and dtypes the format lacks; INTERNAL for I/O failures.
absl::Status WriteSafetensors(const std::string& path,
                              const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// The bytes WriteSafetensors would write, in memory (for content hashes of
// small files, e.g. a LoRA's sd-scripts hashes). Same errors, naming no path.
absl::StatusOr<std::string> SerializeSafetensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                                 const std::map<std::string, std::string>& metadata = {});

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_SAFETENSORS_H_

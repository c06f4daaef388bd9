// Test-only: the int64 tensors of a small .safetensors file (8-byte
// little-endian header length, JSON header, raw data), without LibTorch or
// core/safetensors so tokenizer tests stay light. Other dtypes are skipped.
#ifndef DREAMSHOT_MODELS_CLIP_TESTDATA_READER_H_
#define DREAMSHOT_MODELS_CLIP_TESTDATA_READER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dreamshot::models::clip {

struct Int64Tensor {
  std::vector<int64_t> shape;
  std::vector<int64_t> values;  // row-major
};

absl::StatusOr<std::map<std::string, Int64Tensor>> ReadInt64Safetensors(const std::string& path);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_TESTDATA_READER_H_

// libFuzzer entry point for ParseSafetensorsHeader. Beyond "no crash, no
// out-of-bounds read" (ASan/UBSan), it checks the parser's promise: an
// accepted file's tensors tile its data section exactly and match their
// shapes, so callers can index the bytes without further checks.
//
// Built two ways: tools/fuzz_safetensors.sh (clang, -fsanitize=fuzzer) and
// //core:safetensors_fuzzer (gcc, with core/fuzz_driver_main.cc replaying
// files, for CI and crash reproduction).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "core/safetensors_format.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dreamshot::core::ParseSafetensorsHeader;
  using dreamshot::core::SafetensorsDtypeSize;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto header = ParseSafetensorsHeader(bytes, "fuzz-input");
  if (!header.ok()) {
    Check(!header.status().message().empty());
    return 0;
  }
  Check(header->data_start == 8 + header->header_size && header->data_start <= size);
  uint64_t expected = header->data_start;
  for (const auto& entry : header->entries) {
    Check(entry.begin == expected && entry.begin <= entry.end && entry.end <= size);
    Check(static_cast<uint64_t>(entry.num_elements()) * SafetensorsDtypeSize(entry.dtype) == entry.num_bytes());
    Check(header->Find(entry.name) == &entry);
    expected = entry.end;
  }
  Check(expected == size);
  Check(header->index.size() == header->entries.size());
  return 0;
}

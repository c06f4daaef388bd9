// SHA-256 of bytes and files (hex), for content-addressed artifacts.
#ifndef DREAMSHOT_CORE_SHA256_H_
#define DREAMSHOT_CORE_SHA256_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::core {

std::string Sha256Hex(absl::string_view bytes);
// Streams the file; NOT_FOUND / INTERNAL name the path.
absl::StatusOr<std::string> Sha256HexOfFile(const std::string& path);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_SHA256_H_

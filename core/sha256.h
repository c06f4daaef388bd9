// SHA-256 of bytes and files (hex), for content-addressed artifacts.
#ifndef DREAMSHOT_CORE_SHA256_H_
#define DREAMSHOT_CORE_SHA256_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace dreamshot::core {

// SHA-256 of bytes that arrive in pieces (an upload's chunks).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view bytes);
  // The hex digest of everything given to Update; call once.
  std::string FinalHex();

 private:
  evp_md_ctx_st* ctx_;
};

std::string Sha256Hex(absl::string_view bytes);
// Streams the file; NOT_FOUND / INTERNAL name the path.
absl::StatusOr<std::string> Sha256HexOfFile(const std::string& path);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_SHA256_H_

#include "experiments/artifact_blobs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/sha256.h"
#include "core/status_macros.h"

namespace dreamshot::experiments {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string ArtifactBlobs::PathFor(const std::string& sha256) const {
  return absl::StrCat(root_, "/", sha256.substr(0, 2), "/", sha256);
}

absl::StatusOr<StoredBlob> ArtifactBlobs::PutBytes(absl::string_view bytes) {
  StoredBlob blob{core::Sha256Hex(bytes), static_cast<int64_t>(bytes.size()), ""};
  const std::string path = PathFor(blob.sha256);
  if (!Exists(path)) {
    RETURN_IF_ERROR(core::MakeDirectories(absl::StrCat(root_, "/", blob.sha256.substr(0, 2))));
    RETURN_IF_ERROR(core::WriteFileAtomically(path, bytes));
  }
  blob.uri = absl::StrCat("file://", path);
  return blob;
}

absl::StatusOr<StoredBlob> ArtifactBlobs::PutFile(const std::string& source_path) {
  struct stat st;
  if (::stat(source_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("no such file on the server: ", source_path));
  }
  // Copy first, then hash the copy: the stored bytes are exactly the hashed
  // bytes even if the source changes meanwhile.
  RETURN_IF_ERROR(core::MakeDirectories(root_));
  std::random_device rd;
  const std::string staging = absl::StrCat(root_, "/.staging-", ::getpid(), "-", rd());
  RETURN_IF_ERROR(core::CopyFileAtomically(source_path, staging));
  absl::StatusOr<std::string> sha = core::Sha256HexOfFile(staging);
  if (::stat(staging.c_str(), &st) != 0) sha = absl::InternalError(absl::StrCat("lost ", staging));
  absl::Status placed = sha.status();
  if (placed.ok()) {
    placed = core::MakeDirectories(absl::StrCat(root_, "/", sha->substr(0, 2)));
  }
  if (placed.ok() && ::rename(staging.c_str(), PathFor(*sha).c_str()) != 0) {
    placed = absl::InternalError(absl::StrCat("cannot move ", staging, " to ", PathFor(*sha)));
  }
  if (!placed.ok()) {
    ::unlink(staging.c_str());
    return placed;
  }
  return StoredBlob{*sha, static_cast<int64_t>(st.st_size), absl::StrCat("file://", PathFor(*sha))};
}

absl::StatusOr<std::string> ReadBlobUri(const std::string& uri) {
  constexpr absl::string_view kFile = "file://";
  if (!absl::StartsWith(uri, kFile)) return absl::InternalError(absl::StrCat("artifact ", uri, " is not a local file"));
  std::ifstream in(uri.substr(kFile.size()), std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("artifact file ", uri.substr(kFile.size()), " is missing"));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace dreamshot::experiments

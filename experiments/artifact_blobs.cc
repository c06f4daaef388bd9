#include "experiments/artifact_blobs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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

bool ArtifactBlobs::Enter(const std::string& sha256, bool to_record) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool exists = Exists(PathFor(sha256));
  auto it = pending_.find(sha256);
  if (to_record) {
    Pending& p = pending_[sha256];
    if (p.users++ > 0) p.met_by_others = true;
    if (!exists) p.written_here = true;
  } else if (it != pending_.end()) {
    it->second.met_by_others = true;
  }
  return exists;
}

void ArtifactBlobs::Settle(const std::string& sha256, bool recorded,
                          const std::function<bool(const std::string&)>& referenced) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(sha256);
  if (it == pending_.end()) return;
  bool remove = false;
  if (--it->second.users == 0) {
    // The last user decides, under the lock that a Put takes to decide
    // whether to write, so no Put can come to rely on a file removed here.
    remove = !recorded && it->second.written_here && !it->second.met_by_others &&
             !(referenced && referenced(sha256));
    pending_.erase(it);
  }
  if (remove) ::unlink(PathFor(sha256).c_str());
}

absl::StatusOr<bool> ArtifactBlobs::Remove(const std::string& sha256) {
  const std::string path = PathFor(sha256);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return absl::InternalError(absl::StrCat("cannot remove ", path, ": ", std::strerror(errno)));
}

absl::Status ArtifactBlobs::Write(const std::string& sha256, absl::string_view bytes) {
  if (ledger_) RETURN_IF_ERROR(ledger_(sha256));
  RETURN_IF_ERROR(core::MakeDirectories(absl::StrCat(root_, "/", sha256.substr(0, 2))));
  return core::WriteFileAtomically(PathFor(sha256), bytes);
}

absl::StatusOr<StoredBlob> ArtifactBlobs::PlaceBytes(absl::string_view bytes, bool to_record) {
  StoredBlob blob{core::Sha256Hex(bytes), static_cast<int64_t>(bytes.size()), ""};
  if (!Enter(blob.sha256, to_record)) {
    absl::Status written = Write(blob.sha256, bytes);
    if (!written.ok()) {
      if (to_record) Settle(blob.sha256, /*recorded=*/false, nullptr);
      return written;
    }
  }
  blob.uri = absl::StrCat("file://", PathFor(blob.sha256));
  return blob;
}

absl::StatusOr<StoredBlob> ArtifactBlobs::PlaceFile(const std::string& source_path, bool to_record) {
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
  if (!sha.ok()) {
    ::unlink(staging.c_str());
    return sha.status();
  }
  return Adopt(staging, *sha, static_cast<int64_t>(st.st_size), to_record);
}

absl::StatusOr<StoredBlob> ArtifactBlobs::Adopt(const std::string& staging, const std::string& sha256, int64_t size,
                                                bool to_record) {
  absl::Status placed;
  if (Enter(sha256, to_record)) {
    ::unlink(staging.c_str());  // the same bytes are there already
  } else {
    if (ledger_) placed = ledger_(sha256);
    if (placed.ok()) placed = core::MakeDirectories(absl::StrCat(root_, "/", sha256.substr(0, 2)));
    if (placed.ok() && ::rename(staging.c_str(), PathFor(sha256).c_str()) != 0) {
      placed = absl::InternalError(absl::StrCat("cannot move ", staging, " to ", PathFor(sha256)));
    }
    if (!placed.ok()) {
      ::unlink(staging.c_str());
      if (to_record) Settle(sha256, /*recorded=*/false, nullptr);
      return placed;
    }
  }
  return StoredBlob{sha256, size, absl::StrCat("file://", PathFor(sha256))};
}

absl::StatusOr<StoredBlob> ArtifactBlobs::AdoptStagedToRecord(const std::string& staging, const std::string& sha256,
                                                              int64_t size) {
  return Adopt(staging, sha256, size, true);
}

absl::StatusOr<StoredBlob> ArtifactBlobs::PutBytes(absl::string_view bytes) { return PlaceBytes(bytes, false); }
absl::StatusOr<StoredBlob> ArtifactBlobs::PutFile(const std::string& source_path) {
  return PlaceFile(source_path, false);
}
absl::StatusOr<StoredBlob> ArtifactBlobs::PutBytesToRecord(absl::string_view bytes) { return PlaceBytes(bytes, true); }
absl::StatusOr<StoredBlob> ArtifactBlobs::PutFileToRecord(const std::string& source_path) {
  return PlaceFile(source_path, true);
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

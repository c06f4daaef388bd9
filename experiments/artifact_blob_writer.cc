#include "experiments/artifact_blob_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/status_macros.h"

namespace dreamshot::experiments {
namespace {

absl::Status Errno(absl::string_view what, absl::string_view path) {
  const int error = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArtifactBlobWriter>> ArtifactBlobWriter::Start(const ArtifactBlobs& blobs) {
  RETURN_IF_ERROR(core::MakeDirectories(blobs.root()));
  std::random_device rd;
  std::string staging = absl::StrCat(blobs.root(), "/.staging-", ::getpid(), "-", rd());
  const int fd = ::open(staging.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", staging);
  return std::unique_ptr<ArtifactBlobWriter>(new ArtifactBlobWriter(blobs, std::move(staging), fd));
}

ArtifactBlobWriter::ArtifactBlobWriter(const ArtifactBlobs& blobs, std::string staging, int fd)
    : blobs_(blobs), staging_(std::move(staging)), fd_(fd) {}

ArtifactBlobWriter::~ArtifactBlobWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(staging_.c_str());
}

absl::Status ArtifactBlobWriter::Append(absl::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(staging_, " is already finished"));
  hasher_.Update(bytes);
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = ::write(fd_, data, std::min<size_t>(left, size_t{1} << 30));
    if (written < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", staging_);
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  size_ += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string> ArtifactBlobWriter::Finish() {
  if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(staging_, " is already finished"));
  absl::Status status;
  if (::fsync(fd_) != 0) status = Errno("cannot fsync", staging_);
  if (::close(fd_) != 0 && status.ok()) status = Errno("cannot close", staging_);
  fd_ = -1;
  RETURN_IF_ERROR(status);
  sha256_ = hasher_.FinalHex();
  return sha256_;
}

absl::StatusOr<StoredBlob> ArtifactBlobWriter::Commit() {
  if (sha256_.empty()) return absl::FailedPreconditionError(absl::StrCat(staging_, " is not finished"));
  if (committed_) return absl::FailedPreconditionError(absl::StrCat(staging_, " is already committed"));
  RETURN_IF_ERROR(core::MakeDirectories(absl::StrCat(blobs_.root(), "/", sha256_.substr(0, 2))));
  const std::string path = blobs_.PathFor(sha256_);
  if (::rename(staging_.c_str(), path.c_str()) != 0) return Errno(absl::StrCat("cannot move ", staging_, " to"), path);
  committed_ = true;
  return StoredBlob{sha256_, size_, absl::StrCat("file://", path)};
}

}  // namespace dreamshot::experiments

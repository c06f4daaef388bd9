// One artifact blob written from pieces as they arrive (an upload's
// chunks): hashed as it goes and never held whole in memory. The bytes go
// to a staging file under the blob root (".staging-<pid>-<n>", the same
// staging as ArtifactBlobs::PutFile); Commit moves them to their content
// address. A writer destroyed before Commit removes its staging file, so a
// failed or cancelled upload leaves nothing behind.
#ifndef DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOB_WRITER_H_
#define DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOB_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/sha256.h"
#include "experiments/artifact_blobs.h"

namespace dreamshot::experiments {

class ArtifactBlobWriter {
 public:
  // Creates the staging file. `blobs` must outlive the writer.
  static absl::StatusOr<std::unique_ptr<ArtifactBlobWriter>> Start(const ArtifactBlobs& blobs);
  ~ArtifactBlobWriter();
  ArtifactBlobWriter(const ArtifactBlobWriter&) = delete;
  ArtifactBlobWriter& operator=(const ArtifactBlobWriter&) = delete;

  // Appends to the staging file. RESOURCE_EXHAUSTED when the disk is full.
  absl::Status Append(absl::string_view bytes);
  int64_t size() const { return size_; }
  const std::string& staging_path() const { return staging_; }

  // After the last Append: flushes the bytes to disk and returns their
  // sha256 (hex). Once.
  absl::StatusOr<std::string> Finish();
  // After Finish: moves the bytes to their content address and returns the
  // blob. Identical content already stored is replaced by the same bytes.
  absl::StatusOr<StoredBlob> Commit();

 private:
  ArtifactBlobWriter(const ArtifactBlobs& blobs, std::string staging, int fd);

  const ArtifactBlobs& blobs_;
  const std::string staging_;
  int fd_;  // -1 once closed
  int64_t size_ = 0;
  core::Sha256Hasher hasher_;
  std::string sha256_;  // set by Finish
  bool committed_ = false;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOB_WRITER_H_

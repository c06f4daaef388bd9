// Content-addressed artifact bytes under <data_dir>/artifacts/ab/abcdef...
// Identical content is stored once; writes are atomic.
#ifndef DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOBS_H_
#define DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOBS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::experiments {

struct StoredBlob {
  std::string sha256;
  int64_t size_bytes = 0;
  std::string uri;  // file:///abs/path
};

class ArtifactBlobs {
 public:
  explicit ArtifactBlobs(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<StoredBlob> PutBytes(absl::string_view bytes);
  absl::StatusOr<StoredBlob> PutFile(const std::string& source_path);
  std::string PathFor(const std::string& sha256) const;
  // The folder holding the blobs (and, while they are written, ".staging-*"
  // files; see artifact_blob_writer.h).
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// The bytes behind a blob's uri ("file://..."): INTERNAL for another scheme
// or a missing file (the store names a blob that is gone).
absl::StatusOr<std::string> ReadBlobUri(const std::string& uri);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOBS_H_

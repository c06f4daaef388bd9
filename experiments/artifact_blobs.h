// Content-addressed artifact bytes under <data_dir>/artifacts/ab/abcdef...
// Identical content is stored once; writes are atomic. A full disk is
// RESOURCE_EXHAUSTED naming the folder and the space left.
#ifndef DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOBS_H_
#define DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOBS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
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
  // Told the hash of every file about to be created, before it is; an error
  // stops the write. The server passes the store's NoteBlobWrite, so that
  // files whose rows never came can be found and removed later.
  using WriteLedger = std::function<absl::Status(const std::string& sha256)>;

  explicit ArtifactBlobs(std::string root, WriteLedger ledger = nullptr)
      : root_(std::move(root)), ledger_(std::move(ledger)) {}

  absl::StatusOr<StoredBlob> PutBytes(absl::string_view bytes);
  absl::StatusOr<StoredBlob> PutFile(const std::string& source_path);
  std::string PathFor(const std::string& sha256) const;
  // The folder holding the blobs (and, while they are written, ".staging-*"
  // files; see artifact_blob_writer.h).
  const std::string& root() const { return root_; }

  // Put* for a caller that records the blob next and then calls Settle with
  // the outcome: a blob written for a record that failed is removed again,
  // unless `referenced` says a row has it or another Put met it meanwhile.
  absl::StatusOr<StoredBlob> PutBytesToRecord(absl::string_view bytes);
  absl::StatusOr<StoredBlob> PutFileToRecord(const std::string& source_path);
  void Settle(const std::string& sha256, bool recorded, const std::function<bool(const std::string&)>& referenced);
  // The same for a file already written and hashed under root() (a
  // ".staging-*" file of artifact_blob_writer.h): moved into place, not
  // copied; removed when the same bytes are there already.
  absl::StatusOr<StoredBlob> AdoptStagedToRecord(const std::string& staging, const std::string& sha256, int64_t size);

  // Deletes the file of a blob no row refers to (a sweep's job): true if
  // there was one, false if it was gone already.
  absl::StatusOr<bool> Remove(const std::string& sha256);

 private:
  // Blobs between a *ToRecord put and its Settle.
  struct Pending {
    int users = 0;
    bool written_here = false;   // absent when it was first put to record: ours to remove
    bool met_by_others = false;  // another Put saw it: someone else may record it
  };
  // Takes part in the pending bookkeeping and says whether the file exists.
  bool Enter(const std::string& sha256, bool to_record);
  absl::Status Write(const std::string& sha256, absl::string_view bytes);
  absl::StatusOr<StoredBlob> PlaceFile(const std::string& source_path, bool to_record);
  absl::StatusOr<StoredBlob> PlaceBytes(absl::string_view bytes, bool to_record);
  absl::StatusOr<StoredBlob> Adopt(const std::string& staging, const std::string& sha256, int64_t size,
                                   bool to_record);

  std::string root_;
  WriteLedger ledger_;
  std::mutex mu_;
  std::map<std::string, Pending> pending_;
};

// The bytes behind a blob's uri ("file://..."): INTERNAL for another scheme
// or a missing file (the store names a blob that is gone).
absl::StatusOr<std::string> ReadBlobUri(const std::string& uri);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_ARTIFACT_BLOBS_H_

#include "experiments/artifact_writes.h"

#include <utility>
#include <vector>

#include "core/status_macros.h"

namespace dreamshot::experiments {
namespace {

absl::StatusOr<Artifact> Record(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                const StoredBlob& blob) {
  artifact.sha256 = blob.sha256;
  artifact.size_bytes = blob.size_bytes;
  artifact.uri = blob.uri;
  absl::StatusOr<Artifact> stored = store.AddArtifact(artifact);
  bool removed = false;
  blobs.Settle(blob.sha256, stored.ok(), [&](const std::string& sha) {
    // A store that cannot tell counts as referencing: keep the file.
    absl::StatusOr<bool> recorded = store.IsBlobRecorded(sha);
    removed = recorded.ok() && !*recorded;
    return !removed;
  });
  // Best effort: with the disk still full this may fail too, and the note
  // then only makes the next sweep look for a file that is gone.
  if (removed) (void)store.ForgetBlobWrites({blob.sha256});
  return stored;
}

}  // namespace

absl::StatusOr<Artifact> AddArtifactBytes(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                          absl::string_view bytes) {
  ASSIGN_OR_RETURN(StoredBlob blob, blobs.PutBytesToRecord(bytes));
  return Record(store, blobs, std::move(artifact), blob);
}

absl::StatusOr<Artifact> AddArtifactFile(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                         const std::string& source_path) {
  ASSIGN_OR_RETURN(StoredBlob blob, blobs.PutFileToRecord(source_path));
  return Record(store, blobs, std::move(artifact), blob);
}

absl::StatusOr<Artifact> AddArtifactStaged(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                           const std::string& staging, const std::string& sha256, int64_t size) {
  ASSIGN_OR_RETURN(StoredBlob blob, blobs.AdoptStagedToRecord(staging, sha256, size));
  return Record(store, blobs, std::move(artifact), blob);
}

absl::StatusOr<int64_t> SweepUnrecordedBlobs(ArtifactStore& store, ArtifactBlobs& blobs) {
  ASSIGN_OR_RETURN(std::vector<std::string> leftovers, store.UnrecordedBlobWrites());
  std::vector<std::string> cleared;
  int64_t removed = 0;
  for (const std::string& sha : leftovers) {
    absl::StatusOr<bool> gone = blobs.Remove(sha);
    if (!gone.ok()) continue;  // kept, and so is its note: the next start tries again
    removed += *gone ? 1 : 0;
    cleared.push_back(sha);
  }
  RETURN_IF_ERROR(store.ForgetBlobWrites(cleared));
  return removed;
}

}  // namespace dreamshot::experiments

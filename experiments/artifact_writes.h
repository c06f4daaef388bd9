// Artifact bytes and their row as one step, and the sweep of files whose
// rows never came. A blob's file is written before its row; when the row
// fails (a full disk, say) the file would stay behind unreferenced.
#ifndef DREAMSHOT_EXPERIMENTS_ARTIFACT_WRITES_H_
#define DREAMSHOT_EXPERIMENTS_ARTIFACT_WRITES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/types.h"

namespace dreamshot::experiments {

// Stores `bytes` and records `artifact` for them (its sha256, size_bytes and
// uri filled in here). If the record fails, a file this call wrote is
// removed again, unless a row of the store or another writer has it by then.
absl::StatusOr<Artifact> AddArtifactBytes(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                          absl::string_view bytes);
// The same for a file on the server (copied, then hashed).
absl::StatusOr<Artifact> AddArtifactFile(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                         const std::string& source_path);

// The same for a file streamed into the blob folder and hashed as it came
// (experiments/artifact_blob_writer.h): moved into place.
absl::StatusOr<Artifact> AddArtifactStaged(ArtifactStore& store, ArtifactBlobs& blobs, Artifact artifact,
                                           const std::string& staging, const std::string& sha256, int64_t size);

// For a server starting on the store, before any job runs: removes the
// files of blob writes the store noted but no artifact row refers to (left
// by a failed record or a crash) and forgets their notes. Files another
// store wrote into a shared folder are never touched. Returns how many
// files were removed.
absl::StatusOr<int64_t> SweepUnrecordedBlobs(ArtifactStore& store, ArtifactBlobs& blobs);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_ARTIFACT_WRITES_H_

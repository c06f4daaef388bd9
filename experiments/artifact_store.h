// Artifact records of runs, and the notes of blob files written before their
// records. The bytes themselves live in ArtifactBlobs (artifact_blobs.h);
// experiments/artifact_writes.h writes bytes and record as one step.
#ifndef DREAMSHOT_EXPERIMENTS_ARTIFACT_STORE_H_
#define DREAMSHOT_EXPERIMENTS_ARTIFACT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/types.h"

namespace dreamshot::experiments {

class Database;

class ArtifactStore {
 public:
  // `db` outlives the ArtifactStore (the ExperimentStore's, see store.h).
  explicit ArtifactStore(Database* db) : db_(db) {}

  // INVALID_ARGUMENT for a bad path or kind; NOT_FOUND for a missing run;
  // ALREADY_EXISTS names a path the run already has.
  absl::StatusOr<Artifact> AddArtifact(const Artifact& artifact);
  // The run's artifacts by path; NOT_FOUND for a missing run.
  absl::StatusOr<std::vector<Artifact>> ListArtifacts(int64_t run_id);
  // NOT_FOUND naming the id.
  absl::StatusOr<Artifact> GetArtifact(int64_t id);

  // Blob writes not yet recorded (artifact_store_blobs.cc): ArtifactBlobs
  // notes each file before writing it (its WriteLedger); inserting an
  // artifact row with that hash drops the note. Notes left name files whose
  // rows never came.
  absl::Status NoteBlobWrite(const std::string& sha256);
  // Whether an artifact row refers to the hash.
  absl::StatusOr<bool> IsBlobRecorded(const std::string& sha256);
  // Noted hashes no artifact row refers to.
  absl::StatusOr<std::vector<std::string>> UnrecordedBlobWrites();
  absl::Status ForgetBlobWrites(const std::vector<std::string>& sha256s);

 private:
  Database* db_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_ARTIFACT_STORE_H_

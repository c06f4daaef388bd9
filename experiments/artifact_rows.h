// Artifact rows inside an open write transaction, shared by
// ArtifactStore::AddArtifact and DatasetStore::CommitDatasetSource (which
// records a source's images with its items). Private to those two stores.
#ifndef DREAMSHOT_EXPERIMENTS_ARTIFACT_ROWS_H_
#define DREAMSHOT_EXPERIMENTS_ARTIFACT_ROWS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/types.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace dreamshot::experiments {

inline constexpr size_t kMaxArtifactPathLength = 1024;

// INVALID_ARGUMENT unless path has 1..1024 and kind 1..250 characters.
absl::Status CheckArtifactFields(const Artifact& artifact);

// Inserts `artifact` for artifact.run_id (its id and created_ms are ignored;
// the row is stamped `created_ms`) and returns the new id. ALREADY_EXISTS
// names the path when the run already has an artifact there.
absl::StatusOr<int64_t> InsertArtifactRow(SQLite::Database& db, const Artifact& artifact, int64_t created_ms);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_ARTIFACT_ROWS_H_

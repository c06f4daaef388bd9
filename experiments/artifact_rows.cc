#include "experiments/artifact_rows.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "experiments/store_limits.h"

namespace dreamshot::experiments {

absl::Status CheckArtifactFields(const Artifact& artifact) {
  if (artifact.path.empty() || artifact.path.size() > kMaxArtifactPathLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("artifact path must have 1 to ", kMaxArtifactPathLength, " characters"));
  }
  if (artifact.kind.empty() || artifact.kind.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError(absl::StrCat("artifact kind must have 1 to ", kMaxKeyLength,
                                                   " characters (path '", artifact.path, "')"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> InsertArtifactRow(SQLite::Database& db, const Artifact& artifact, int64_t created_ms) {
  SQLite::Statement insert(db,
                           "INSERT INTO artifacts (run_id, kind, path, sha256, size_bytes, uri, created_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, artifact.run_id);
  insert.bind(2, artifact.kind);
  insert.bind(3, artifact.path);
  insert.bind(4, artifact.sha256);
  insert.bind(5, artifact.size_bytes);
  insert.bind(6, artifact.uri);
  insert.bind(7, created_ms);
  try {
    insert.exec();
  } catch (const SQLite::Exception& e) {
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
      return absl::AlreadyExistsError(
          absl::StrCat("run ", artifact.run_id, " already has an artifact at '", artifact.path, "'"));
    }
    throw;
  }
  const int64_t id = db.getLastInsertRowid();
  // The blob's file is recorded now: no longer a leftover for the sweep.
  SQLite::Statement recorded(db, "DELETE FROM blob_writes WHERE sha256 = ?");
  recorded.bind(1, artifact.sha256);
  recorded.exec();
  return id;
}

}  // namespace dreamshot::experiments

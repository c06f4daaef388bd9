// Artifact records. The bytes themselves live in ArtifactBlobs under the
// data directory; the table maps a run's logical path to their hash.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/run_loader.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

Artifact ReadArtifact(SQLite::Statement& q) {
  Artifact a;
  a.id = q.getColumn(0).getInt64();
  a.run_id = q.getColumn(1).getInt64();
  a.kind = q.getColumn(2).getString();
  a.path = q.getColumn(3).getString();
  a.sha256 = q.getColumn(4).getString();
  a.size_bytes = q.getColumn(5).getInt64();
  a.uri = q.getColumn(6).getString();
  a.created_ms = q.getColumn(7).getInt64();
  return a;
}

constexpr char kArtifactColumns[] = "id, run_id, kind, path, sha256, size_bytes, uri, created_ms";

}  // namespace

absl::StatusOr<Artifact> ExperimentStore::AddArtifact(const Artifact& artifact) {
  if (artifact.path.empty() || artifact.path.size() > 1024) {
    return absl::InvalidArgumentError("artifact path must have 1 to 1024 characters");
  }
  if (artifact.kind.empty() || artifact.kind.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError("artifact kind must have 1 to 250 characters");
  }
  Artifact stored;
  RETURN_IF_ERROR(db_->Write("add artifact", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, artifact.run_id).status());
    SQLite::Statement insert(db,
                             "INSERT INTO artifacts (run_id, kind, path, sha256, size_bytes, uri, created_ms) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, artifact.run_id);
    insert.bind(2, artifact.kind);
    insert.bind(3, artifact.path);
    insert.bind(4, artifact.sha256);
    insert.bind(5, artifact.size_bytes);
    insert.bind(6, artifact.uri);
    insert.bind(7, core::NowMillis());
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(absl::StrCat("run ", artifact.run_id,
                                                     " already has an artifact at '", artifact.path, "'"));
      }
      throw;
    }
    SQLite::Statement q(db, absl::StrCat("SELECT ", kArtifactColumns, " FROM artifacts WHERE id = ?"));
    q.bind(1, db.getLastInsertRowid());
    q.executeStep();
    stored = ReadArtifact(q);
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<std::vector<Artifact>> ExperimentStore::ListArtifacts(int64_t run_id) {
  std::vector<Artifact> out;
  RETURN_IF_ERROR(db_->Read("list artifacts", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db, absl::StrCat("SELECT ", kArtifactColumns,
                                         " FROM artifacts WHERE run_id = ? ORDER BY path"));
    q.bind(1, run_id);
    while (q.executeStep()) out.push_back(ReadArtifact(q));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments

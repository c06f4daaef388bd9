// Artifact records. The bytes themselves live in ArtifactBlobs under the
// data directory; the table maps a run's logical path to their hash.
#include "experiments/artifact_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/artifact_rows.h"
#include "experiments/database.h"
#include "experiments/run_loader.h"

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

absl::StatusOr<Artifact> ArtifactStore::AddArtifact(const Artifact& artifact) {
  RETURN_IF_ERROR(CheckArtifactFields(artifact));
  Artifact stored;
  RETURN_IF_ERROR(db_->Write("add artifact", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, artifact.run_id).status());
    ASSIGN_OR_RETURN(const int64_t id, InsertArtifactRow(db, artifact, core::NowMillis()));
    SQLite::Statement q(db, absl::StrCat("SELECT ", kArtifactColumns, " FROM artifacts WHERE id = ?"));
    q.bind(1, id);
    q.executeStep();
    stored = ReadArtifact(q);
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<std::vector<Artifact>> ArtifactStore::ListArtifacts(int64_t run_id) {
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

absl::StatusOr<Artifact> ArtifactStore::GetArtifact(int64_t id) {
  Artifact out;
  RETURN_IF_ERROR(db_->Read("get artifact", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, absl::StrCat("SELECT ", kArtifactColumns, " FROM artifacts WHERE id = ?"));
    q.bind(1, id);
    if (!q.executeStep()) return absl::NotFoundError(absl::StrCat("no artifact ", id));
    out = ReadArtifact(q);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments

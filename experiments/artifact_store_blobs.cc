// The notes of blob files written before their artifact rows (schema v6),
// which let a sweep remove exactly the files whose rows never came.
#include <SQLiteCpp/SQLiteCpp.h>

#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/artifact_store.h"
#include "experiments/database.h"

namespace dreamshot::experiments {

absl::Status ArtifactStore::NoteBlobWrite(const std::string& sha256) {
  return db_->Write("note blob write", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement insert(db, "INSERT OR IGNORE INTO blob_writes (sha256, noted_ms) VALUES (?, ?)");
    insert.bind(1, sha256);
    insert.bind(2, core::NowMillis());
    insert.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> ArtifactStore::IsBlobRecorded(const std::string& sha256) {
  bool recorded = false;
  RETURN_IF_ERROR(db_->Read("is blob recorded", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, "SELECT EXISTS (SELECT 1 FROM artifacts WHERE sha256 = ?)");
    q.bind(1, sha256);
    q.executeStep();
    recorded = q.getColumn(0).getInt() != 0;
    return absl::OkStatus();
  }));
  return recorded;
}

absl::StatusOr<std::vector<std::string>> ArtifactStore::UnrecordedBlobWrites() {
  std::vector<std::string> out;
  RETURN_IF_ERROR(db_->Read("list unrecorded blob writes", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db,
                        "SELECT sha256 FROM blob_writes b "
                        "WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256) ORDER BY sha256");
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return absl::OkStatus();
  }));
  return out;
}

absl::Status ArtifactStore::ForgetBlobWrites(const std::vector<std::string>& sha256s) {
  if (sha256s.empty()) return absl::OkStatus();
  return db_->Write("forget blob writes", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement del(db, "DELETE FROM blob_writes WHERE sha256 = ?");
    for (const std::string& sha : sha256s) {
      del.bind(1, sha);
      del.exec();
      del.reset();
    }
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::experiments

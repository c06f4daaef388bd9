// Versioned schema of the experiment store. Each migration moves a database
// from version N-1 to N inside one transaction; `PRAGMA user_version` holds N
// and `PRAGMA application_id` marks the file as a DreamShot store.
#ifndef DREAMSHOT_EXPERIMENTS_SCHEMA_H_
#define DREAMSHOT_EXPERIMENTS_SCHEMA_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace SQLite {
class Database;
}

namespace dreamshot::experiments {

inline constexpr int kApplicationId = 0x44534854;  // "DSHT"
int LatestSchemaVersion();

// Reads (application_id, user_version); FAILED_PRECONDITION for a SQLite file
// that belongs to something else.
absl::StatusOr<int> ReadSchemaVersion(SQLite::Database& db, const std::string& path);

// Decides, through a read-only connection that changes nothing (no WAL
// switch, no -wal/-shm files), whether the existing file at `path` may be
// opened as a store: FAILED_PRECONDITION for a store newer than this build
// or a SQLite file of something else. OK when it may, when the file is new
// or empty, and when a read-only look cannot tell (a hot journal, a WAL
// store without its -shm): opening read-write then decides.
absl::Status CheckBeforeOpening(const std::string& path);

// Migrates forward to `target` (tests use older targets to build old stores).
absl::Status MigrateTo(SQLite::Database& db, const std::string& path, int target);
absl::Status MigrateToLatest(SQLite::Database& db, const std::string& path);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_SCHEMA_H_

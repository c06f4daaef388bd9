#include "experiments/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <exception>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "experiments/schema.h"

namespace dreamshot::experiments {
namespace {

constexpr int kBusyTimeoutMs = 30000;
// Enough for the survey pages' and the RPC threads reading at once: a reader
// opened per read costs ~5% of CPU under load.
constexpr size_t kMaxIdleReaders = 32;

// SQLite counts every allocation under one process-wide mutex unless told
// not to; with many server threads they queued on it (the survey load test
// went from 2,682 to 3,193 requests/s, medians of 3, without it). Must run
// before the first connection initialises SQLite; later it is a no-op.
void TurnOffSqliteMemoryStatistics() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

absl::Status FromException(const std::string& path, const char* what, const std::exception& e) {
  return absl::InternalError(absl::StrCat("experiment store ", path, ": ", what, ": ", e.what()));
}

// Runs `fn` between `begin` and COMMIT on `db`, rolling back on any failure.
absl::Status InTransaction(SQLite::Database& db, const std::string& path, const char* what, const char* begin,
                           const std::function<absl::Status(SQLite::Database&)>& fn) {
  try {
    db.exec(begin);
  } catch (const std::exception& e) {
    return FromException(path, what, e);
  }
  absl::Status status;
  try {
    status = fn(db);
    if (status.ok()) db.exec("COMMIT");
  } catch (const std::exception& e) {
    status = FromException(path, what, e);
  }
  if (!status.ok()) {
    try {
      if (!sqlite3_get_autocommit(db.getHandle())) db.exec("ROLLBACK");  // still in a transaction
    } catch (const std::exception&) {
      // The original error is the one worth reporting.
    }
  }
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SQLite::Database>> OpenRawConnection(const std::string& path) {
  TurnOffSqliteMemoryStatistics();
  try {
    auto db =
        std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    db->setBusyTimeout(kBusyTimeoutMs);
    db->exec("PRAGMA foreign_keys = ON");
    // The first statement reads the header: a file that is not SQLite fails here.
    db->exec("PRAGMA journal_mode = WAL");
    db->exec("PRAGMA synchronous = NORMAL");
    return db;
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open experiment store ", path, ": ", e.what(), " (is it a DreamShot store?)"));
  }
}

Database::Database(std::string path) : path_(std::move(path)) {}
Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  auto database = std::unique_ptr<Database>(new Database(path));
  ASSIGN_OR_RETURN(database->writer_, OpenRawConnection(path));
  RETURN_IF_ERROR(MigrateToLatest(*database->writer_, path));
  return database;
}

absl::StatusOr<std::unique_ptr<SQLite::Database>> Database::Connect() const { return OpenRawConnection(path_); }

absl::Status Database::Write(const char* what, const std::function<absl::Status(SQLite::Database&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return InTransaction(*writer_, path_, what, "BEGIN IMMEDIATE", fn);
}

absl::Status Database::Read(const char* what, const std::function<absl::Status(SQLite::Database&)>& fn) {
  std::unique_ptr<SQLite::Database> reader;
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!reader) {
    ASSIGN_OR_RETURN(reader, Connect());
  }
  absl::Status status = InTransaction(*reader, path_, what, "BEGIN DEFERRED", fn);
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(reader));
  return status;
}

}  // namespace dreamshot::experiments

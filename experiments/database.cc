#include "experiments/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <exception>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
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

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// A full disk (SQLITE_FULL: the database, its WAL or a temp file could not
// grow) is RESOURCE_EXHAUSTED naming the store's folder and the space left;
// anything else is INTERNAL.
absl::Status FromException(SQLite::Database& db, const std::string& path, const char* what, const std::exception& e) {
  const std::string message = absl::StrCat("experiment store ", path, ": ", what, ": ", e.what());
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  const int code = sqlite != nullptr ? sqlite->getErrorCode() : SQLITE_OK;
  // An I/O error's errno says whether a write met a full disk (fsync, say).
  if (code == SQLITE_FULL || (code == SQLITE_IOERR && core::IsNoSpaceErrno(sqlite3_system_errno(db.getHandle())))) {
    return core::DiskFullError(DirName(path), message);
  }
  return absl::InternalError(message);
}

// Runs `fn` between `begin` and COMMIT on `db`, rolling back on any failure.
absl::Status InTransaction(SQLite::Database& db, const std::string& path, const char* what, const char* begin,
                           const std::function<absl::Status(SQLite::Database&)>& fn) {
  try {
    db.exec(begin);
  } catch (const std::exception& e) {
    return FromException(db, path, what, e);
  }
  absl::Status status;
  try {
    status = fn(db);
    if (status.ok()) db.exec("COMMIT");
  } catch (const std::exception& e) {
    status = FromException(db, path, what, e);
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
  // A store this build must refuse is refused before the read-write
  // connection switches it to WAL: a refusal changes nothing.
  RETURN_IF_ERROR(CheckBeforeOpening(path));
  auto database = std::unique_ptr<Database>(new Database(path));
  ASSIGN_OR_RETURN(database->writer_, OpenRawConnection(path));
  RETURN_IF_ERROR(MigrateToLatest(*database->writer_, path));
  char real[PATH_MAX];
  database->reserve_path_ = absl::StrCat(::realpath(path.c_str(), real) != nullptr ? real : path, ".reserve");
  std::lock_guard<std::mutex> lock(database->write_mu_);
  database->KeepReserve();
  return database;
}

void Database::KeepReserve() {
  const int fd = ::open(reserve_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // Real blocks, not a sparse file: the space must be there to give back.
  reserve_kept_ = ::posix_fallocate(fd, 0, kReserveBytes) == 0;
  ::close(fd);
  if (!reserve_kept_) ::unlink(reserve_path_.c_str());  // a partial one would only mislead
}

bool Database::GiveUpReserve() {
  if (!reserve_kept_) return false;
  reserve_kept_ = false;
  return ::unlink(reserve_path_.c_str()) == 0;
}

absl::StatusOr<std::unique_ptr<SQLite::Database>> Database::Connect() const { return OpenRawConnection(path_); }

absl::Status Database::Write(const char* what, const std::function<absl::Status(SQLite::Database&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  absl::Status status = InTransaction(*writer_, path_, what, "BEGIN IMMEDIATE", fn);
  if (status.ok() && !reserve_kept_) KeepReserve();  // room again after a full disk?
  return status;
}

absl::Status Database::WriteEvenIfFull(const char* what,
                                       const std::function<absl::Status(SQLite::Database&)>& fn) {
  // One lock over both tries: no other store write takes the freed space.
  std::lock_guard<std::mutex> lock(write_mu_);
  absl::Status status = InTransaction(*writer_, path_, what, "BEGIN IMMEDIATE", fn);
  if (status.code() == absl::StatusCode::kResourceExhausted && GiveUpReserve()) {
    status = InTransaction(*writer_, path_, what, "BEGIN IMMEDIATE", fn);
  }
  return status;
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

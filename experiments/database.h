// SQLite connections of the experiment store: opening (WAL, foreign keys,
// busy timeout, schema check and migration) and transactions that turn
// SQLite exceptions into absl::Status with context.
#ifndef DREAMSHOT_EXPERIMENTS_DATABASE_H_
#define DREAMSHOT_EXPERIMENTS_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace SQLite {
class Database;
}

namespace dreamshot::experiments {

// One writer connection (writes are serialised, as SQLite does anyway) and a
// small pool of reader connections, so long queries never wait for a writer
// under WAL.
class Database {
 public:
  // Opens or creates the store at `path` and migrates it to the newest schema.
  // FAILED_PRECONDITION if the file is not a DreamShot store or is newer than
  // this build.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();

  const std::string& path() const { return path_; }

  // Runs `fn` inside BEGIN IMMEDIATE ... COMMIT; rolls back if `fn` returns
  // an error or throws. `what` names the operation in error messages.
  absl::Status Write(const char* what, const std::function<absl::Status(SQLite::Database&)>& fn);
  // Runs `fn` on a reader connection inside a read transaction (one snapshot).
  absl::Status Read(const char* what, const std::function<absl::Status(SQLite::Database&)>& fn);

  // Write for the few writes that must land even on a full disk (a job's
  // run ending failed because the disk filled): when the disk is full it
  // gives up the store's space reserve, a file "<store>.reserve" of
  // kReserveBytes kept beside it, and tries once more. The reserve comes
  // back with the next write that finds room for it.
  absl::Status WriteEvenIfFull(const char* what, const std::function<absl::Status(SQLite::Database&)>& fn);
  static constexpr int64_t kReserveBytes = 256 << 10;

 private:
  explicit Database(std::string path);
  absl::StatusOr<std::unique_ptr<SQLite::Database>> Connect() const;
  // Both with write_mu_ held.
  void KeepReserve();
  bool GiveUpReserve();

  struct Reader;
  std::string path_;
  std::string reserve_path_;  // beside the real file, on its disk
  bool reserve_kept_ = false;
  std::mutex write_mu_;
  std::unique_ptr<SQLite::Database> writer_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_readers_;
};

// Opens `path` with the store's connection settings but without any schema
// check (used by migrations and their tests).
absl::StatusOr<std::unique_ptr<SQLite::Database>> OpenRawConnection(const std::string& path);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_DATABASE_H_

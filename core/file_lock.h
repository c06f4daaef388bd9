// Exclusive advisory locks (flock) held for the life of the object; used so
// that exactly one dreamshotd owns a store and may recover its dead runs.
#ifndef DREAMSHOT_CORE_FILE_LOCK_H_
#define DREAMSHOT_CORE_FILE_LOCK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dreamshot::core {

class FileLock {
 public:
  // Locks the lock file `path` (created if missing; it holds our pid).
  // FAILED_PRECONDITION naming the holder's pid if another process holds it.
  static absl::StatusOr<std::unique_ptr<FileLock>> Acquire(const std::string& path);

  // Locks the file `path` itself (created if missing) for one owner, under
  // every name it has: a lock file beside its canonical path
  // ("<realpath>.lock", holding our pid) catches symlinks, and an flock on
  // the file itself catches hard links and bind mounts, whose paths differ.
  // FAILED_PRECONDITION naming the path and, where /proc tells, the holder's
  // pid and the path it opened the file by.
  static absl::StatusOr<std::unique_ptr<FileLock>> AcquireFile(const std::string& path);

  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(std::vector<int> fds) : fds_(std::move(fds)) {}
  std::vector<int> fds_;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_FILE_LOCK_H_

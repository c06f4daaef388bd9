// An exclusive advisory lock (flock) held for the life of the object; used so
// that exactly one dreamshotd owns a store and may recover its dead runs.
#ifndef DREAMSHOT_CORE_FILE_LOCK_H_
#define DREAMSHOT_CORE_FILE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace dreamshot::core {

class FileLock {
 public:
  // FAILED_PRECONDITION naming the holder's pid if another process holds it.
  static absl::StatusOr<std::unique_ptr<FileLock>> Acquire(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_FILE_LOCK_H_

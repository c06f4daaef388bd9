#include "core/file_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dreamshot::core {
namespace {

absl::Status OpenError(const std::string& path) {
  return absl::InternalError(absl::StrCat("cannot open lock file ", path, ": ", std::strerror(errno)));
}

std::string PidIn(int fd) {
  char holder[32] = {0};
  const ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
  return n > 0 ? std::string(absl::StripAsciiWhitespace(holder)) : "unknown";
}

// The canonical path of `path`; a file that does not exist yet is created
// empty first (an empty file is a new SQLite store), so that a dangling
// symlink resolves to the file it will name.
absl::StatusOr<std::string> Canonical(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) return std::string(resolved);
  if (errno == ENOENT) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      if (::realpath(path.c_str(), resolved) != nullptr) return std::string(resolved);
    }
  }
  return absl::InternalError(absl::StrCat("cannot resolve ", path, ": ", std::strerror(errno)));
}

// Who holds an flock on the file (dev, ino): "pid N, which opened it as
// PATH" from /proc/locks and /proc/N/fd, or "" when /proc does not tell
// (another user's process, no procfs). `own_fd` is our own descriptor of the
// file, left out when the holder is this process.
std::string FlockHolder(dev_t dev, ino_t ino, int own_fd) {
  std::ifstream locks("/proc/locks");
  std::string line;
  const std::string id = absl::StrCat(absl::Hex(major(dev), absl::kZeroPad2), ":", absl::Hex(minor(dev), absl::kZeroPad2),
                                      ":", ino);
  while (std::getline(locks, line)) {
    // "1: FLOCK  ADVISORY  WRITE 4031 00:2e:1234 0 EOF"; waiters have "->".
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (f.size() < 6 || f[1] != "FLOCK" || f[5] != id) continue;
    int pid = 0;
    if (!absl::SimpleAtoi(f[4], &pid) || pid <= 0) continue;
    const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* dir = ::opendir(fd_dir.c_str());
    std::string opened_as;
    if (dir != nullptr) {
      while (dirent* entry = ::readdir(dir)) {
        int fd = -1;
        if (!absl::SimpleAtoi(entry->d_name, &fd) || (pid == ::getpid() && fd == own_fd)) continue;
        const std::string link = absl::StrCat(fd_dir, "/", entry->d_name);
        struct stat st;
        if (::stat(link.c_str(), &st) != 0 || st.st_dev != dev || st.st_ino != ino) continue;
        char target[PATH_MAX];
        const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
        if (n > 0) {
          opened_as.assign(target, static_cast<size_t>(n));
          break;
        }
      }
      ::closedir(dir);
    }
    return opened_as.empty() ? absl::StrCat("pid ", pid)
                             : absl::StrCat("pid ", pid, ", which opened it as ", opened_as);
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return OpenError(path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = PidIn(fd);
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is locked by another process (pid ", holder, "): one dreamshotd per store"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock itself holds; the pid is only a hint for the error above.
  }
  return std::unique_ptr<FileLock>(new FileLock({fd}));
}

absl::StatusOr<std::unique_ptr<FileLock>> FileLock::AcquireFile(const std::string& path) {
  const absl::StatusOr<std::string> canonical = Canonical(path);
  if (!canonical.ok()) return canonical.status();
  const std::string named = *canonical == path ? path : absl::StrCat(path, " (", *canonical, ")");
  // First the lock file on the canonical path: a symlinked name meets it,
  // and it names the holder's pid.
  const std::string lock_path = *canonical + ".lock";
  absl::StatusOr<std::unique_ptr<FileLock>> by_name = Acquire(lock_path);
  if (!by_name.ok()) {
    if (by_name.status().code() != absl::StatusCode::kFailedPrecondition) return by_name.status();
    const int peek = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    const std::string pid = peek >= 0 ? PidIn(peek) : "unknown";
    if (peek >= 0) ::close(peek);
    return absl::FailedPreconditionError(absl::StrCat("store ", named, " is in use by another process (pid ", pid,
                                                      ", which holds ", lock_path, "): one dreamshotd per store"));
  }
  // Then the file itself: a hard link or a bind mount has its own canonical
  // path (and lock file) but the same inode. (SQLite's own locks are POSIX
  // record locks, which flock on Linux neither sees nor disturbs.)
  const int fd = ::open(canonical->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError(*canonical);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    struct stat st;
    const std::string holder = ::fstat(fd, &st) == 0 ? FlockHolder(st.st_dev, st.st_ino, fd) : "";
    // Closing a descriptor drops this process's POSIX locks on the file; a
    // refused dreamshotd has none. (Only tests run two servers in one
    // process, and SQLite tracks its in-process locks itself.)
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("store ", named, " is in use by another process",
                     holder.empty() ? "" : absl::StrCat(" (", holder, ")"),
                     " under another name (a hard link or a bind mount of the same file): one dreamshotd per store"));
  }
  std::vector<int> fds = std::move((*by_name)->fds_);
  fds.push_back(fd);
  return std::unique_ptr<FileLock>(new FileLock(std::move(fds)));
}

FileLock::~FileLock() {
  for (int fd : fds_) {
    ::flock(fd, LOCK_UN);
    ::close(fd);
  }
}

}  // namespace dreamshot::core

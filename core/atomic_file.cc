#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dreamshot::core {
namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int error = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (IsNoSpaceErrno(error)) return DiskFullError(DirName(path), message);
  return absl::InternalError(message);
}

absl::Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    // Linux writes at most ~2 GiB per call.
    const ssize_t written = ::write(fd, data, std::min<size_t>(n, size_t{1} << 30));
    if (written < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    data += written;
    n -= static_cast<size_t>(written);
  }
  return absl::OkStatus();
}

// Creates a temp file next to `path`, lets `fill` write it, then renames.
absl::Status ReplaceAtomically(const std::string& path,
                               const std::function<absl::Status(int fd, const std::string&)>& fill) {
  std::random_device rd;
  const std::string temp = absl::StrCat(path, ".tmp-", ::getpid(), "-", rd());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  absl::Status status = fill(fd, temp);
  if (status.ok() && ::fsync(fd) != 0) status = Errno("cannot fsync", temp);
  if (::close(fd) != 0 && status.ok()) status = Errno("cannot close", temp);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) status = Errno("cannot rename to", path);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  const int dir = ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);  // makes the rename durable; best effort on odd filesystems
    ::close(dir);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes) {
  return ReplaceAtomically(path, [&](int fd, const std::string& temp) {
    return WriteAll(fd, bytes.data(), bytes.size(), temp);
  });
}

absl::Status WriteFileAtomicallyStreamed(const std::string& path,
                                         const std::function<absl::Status(const ChunkWriter& write)>& fill) {
  return ReplaceAtomically(path, [&](int fd, const std::string& temp) {
    return fill([&](absl::string_view chunk) { return WriteAll(fd, chunk.data(), chunk.size(), temp); });
  });
}

absl::Status CopyFileAtomically(const std::string& source, const std::string& path) {
  const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return errno == ENOENT ? absl::NotFoundError(absl::StrCat("no such file: ", source))
                           : Errno("cannot open", source);
  }
  absl::Status status = ReplaceAtomically(path, [&](int fd, const std::string& temp) {
    std::vector<char> buffer(1 << 20);
    while (true) {
      const ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot read", source);
      }
      if (n == 0) return absl::OkStatus();
      absl::Status s = WriteAll(fd, buffer.data(), static_cast<size_t>(n), temp);
      if (!s.ok()) return s;
    }
  });
  ::close(in);
  return status;
}

bool IsNoSpaceErrno(int error) { return error == ENOSPC || error == EDQUOT; }

absl::Status DiskFullError(const std::string& dir, absl::string_view what) {
  return absl::ResourceExhaustedError(absl::StrCat("disk full: ", what, " (", FreeSpaceText(dir), " free in ", dir, ")"));
}

std::string FreeSpaceText(const std::string& dir) {
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return "unknown";
  const double bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  if (bytes < 1024) return absl::StrCat(static_cast<int64_t>(bytes), " bytes");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = bytes / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrCat(absl::StrFormat("%.1f", value), " ", units[unit]);
}

absl::Status MakeDirectories(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return Errno("cannot create folder", prefix);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a folder"));
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::core

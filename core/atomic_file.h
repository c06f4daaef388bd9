// Files written so that a crash leaves either the old file or the complete
// new one: write to a temp file in the same folder, fsync, rename, fsync dir.
#ifndef DREAMSHOT_CORE_ATOMIC_FILE_H_
#define DREAMSHOT_CORE_ATOMIC_FILE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dreamshot::core {

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

// Writes `path` atomically from pieces, without holding the whole content in
// memory: `fill` calls `write(chunk)` as often as it likes; any error from
// either leaves the old file (or none) in place.
using ChunkWriter = std::function<absl::Status(absl::string_view chunk)>;
absl::Status WriteFileAtomicallyStreamed(const std::string& path,
                                         const std::function<absl::Status(const ChunkWriter& write)>& fill);
// Copies `source` to `path` with the same guarantee.
absl::Status CopyFileAtomically(const std::string& source, const std::string& path);
// mkdir -p.
absl::Status MakeDirectories(const std::string& path);

// A full disk (ENOSPC, or EDQUOT for a full quota) is RESOURCE_EXHAUSTED from
// every function above, its message naming the folder and the space left;
// other failures are INTERNAL.
bool IsNoSpaceErrno(int error);
// RESOURCE_EXHAUSTED "disk full: <what> (<free> free in <dir>)".
absl::Status DiskFullError(const std::string& dir, absl::string_view what);
// The space left to unprivileged writers on the filesystem holding `dir`,
// e.g. "12.0 KiB"; "unknown" when statvfs fails.
std::string FreeSpaceText(const std::string& dir);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_ATOMIC_FILE_H_

#include "core/testdata_paths.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

namespace dreamshot::core {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string RunfilePath(const std::string& relative) {
  const char* srcdir = ::getenv("TEST_SRCDIR");
  const char* workspace = ::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && *srcdir != '\0') {
    return std::string(srcdir) + "/" + (workspace != nullptr && *workspace ? workspace : "dreamshot") + "/" +
           relative;
  }
  return relative;
}

std::string ReferenceDir() {
  const char* env = ::getenv("DREAMSHOT_REFERENCE_DIR");
  if (env != nullptr && *env != '\0') return env;
  char resolved[PATH_MAX];
  if (::realpath(RunfilePath("WORKSPACE").c_str(), resolved) == nullptr) return "";
  std::string root(resolved);
  const size_t slash = root.find_last_of('/');
  root = slash == std::string::npos || slash == 0 ? "" : root.substr(0, slash);
  const std::string dir = root + "/../shared/reference";
  if (!IsDirectory(dir)) return "";
  char canonical[PATH_MAX];
  return ::realpath(dir.c_str(), canonical) != nullptr ? std::string(canonical) : dir;
}

std::string ReferencePath(const std::string& relative) {
  const std::string dir = ReferenceDir();
  return dir.empty() ? "" : dir + "/" + relative;
}

}  // namespace dreamshot::core

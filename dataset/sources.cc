#include "dataset/sources.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace dreamshot::dataset {
namespace {

namespace fs = std::filesystem;

std::string LowerExtension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool OneOf(const std::string& ext, std::initializer_list<const char*> known) {
  for (const char* k : known) {
    if (ext == k) return true;
  }
  return false;
}

}  // namespace

bool IsImageFileName(const std::string& path) {
  return OneOf(LowerExtension(path), {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"});
}

bool IsVideoFileName(const std::string& path) {
  return OneOf(LowerExtension(path), {".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".m2ts",
                                      ".wmv", ".flv", ".ogv", ".3gp", ".mxf"});
}

absl::StatusOr<ExpandedSources> ExpandSources(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("no source paths given");
  std::set<std::string> videos, stills, ignored;
  for (const std::string& given : paths) {
    std::error_code ec;
    const fs::path path = fs::absolute(given, ec).lexically_normal();
    if (ec) return absl::InvalidArgumentError(absl::StrCat("source '", given, "': ", ec.message()));
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return absl::NotFoundError(absl::StrCat("source '", given, "' does not exist"));
    if (!fs::is_directory(status)) {
      (IsImageFileName(path.string()) ? stills : videos).insert(path.string());
      continue;
    }
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("source folder '", given, "': ", ec.message()));
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return absl::InvalidArgumentError(absl::StrCat("listing '", given, "': ", ec.message()));
      if (!it->is_regular_file(ec)) continue;
      const std::string file = it->path().lexically_normal().string();
      if (IsImageFileName(file)) {
        stills.insert(file);
      } else if (IsVideoFileName(file)) {
        videos.insert(file);
      } else {
        ignored.insert(file);
      }
    }
  }
  ExpandedSources out;
  for (const std::string& v : videos) out.files.push_back({v, false});
  for (const std::string& s : stills) out.files.push_back({s, true});
  std::sort(out.files.begin(), out.files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  out.ignored.assign(ignored.begin(), ignored.end());
  if (out.files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no videos or images under the given paths (", out.ignored.size(), " other files ignored)"));
  }
  return out;
}

}  // namespace dreamshot::dataset

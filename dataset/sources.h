// What a dataset build reads: the video files and still images under the
// paths a user names, found by file extension. Light header (no OpenCV).
#ifndef DREAMSHOT_DATASET_SOURCES_H_
#define DREAMSHOT_DATASET_SOURCES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dreamshot::dataset {

// By extension, case-insensitive: .jpg .jpeg .png .bmp .tif .tiff .webp.
bool IsImageFileName(const std::string& path);
// By extension: the containers FFmpeg commonly holds films in (.mp4 .m4v
// .mkv .mov .avi .webm .mpg .mpeg .ts .m2ts .wmv .flv .ogv .3gp .mxf).
bool IsVideoFileName(const std::string& path);

struct SourceFile {
  std::string path;  // absolute, lexically normal
  bool still = false;
};

struct ExpandedSources {
  std::vector<SourceFile> files;  // sorted by path, each once
  // Files under the named folders that are neither video nor image, by
  // path (reported, never read).
  std::vector<std::string> ignored;
};

// Each path is a file (a video, or a still when its extension says image;
// any other file is taken as a video and fails later if nothing decodes it)
// or a folder, searched recursively for videos and stills. Relative paths
// are taken from the current directory. NOT_FOUND names a path that does
// not exist; INVALID_ARGUMENT when there are no paths or nothing to read.
absl::StatusOr<ExpandedSources> ExpandSources(const std::vector<std::string>& paths);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_SOURCES_H_

// Survey pictures as participants receive them. A stored picture carries
// what made it (the PNG "parameters" text names the model, LoRA names and
// hashes), and pictures from different systems can differ in format too
// (colour type, bit depth, compression). Any of that would tell a
// participant which side is which system, so the participant pages serve
// every picture re-encoded one way: 8-bit RGB, no alpha, no chunk but
// IHDR/IDAT/IEND, the same filters and compression. Only the pixels can
// differ. The stored artifact keeps its parameters; blinding happens at
// serving time, so surveys created before it are served blind too.
#ifndef DREAMSHOT_SURVEY_BLIND_IMAGE_H_
#define DREAMSHOT_SURVEY_BLIND_IMAGE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::survey {

// The stored picture (PNG in any colour type and bit depth, or any format
// OpenCV reads) as a canonical PNG. Transparent pixels are composited over
// white. INVALID_ARGUMENT when the bytes are no picture.
absl::StatusOr<std::string> BlindImagePng(absl::string_view stored);

// Blinded pictures by artifact id, least recently used first out, so a
// survey's pictures are re-encoded once, not on every request.
class BlindImageCache {
 public:
  explicit BlindImageCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  using Png = std::shared_ptr<const std::string>;
  // The blinded picture of `artifact_id`; `read_stored` reads the stored
  // bytes on a miss. Errors are not cached.
  absl::StatusOr<Png> Get(int64_t artifact_id, const std::function<absl::StatusOr<std::string>()>& read_stored);

 private:
  using Lru = std::list<std::pair<int64_t, Png>>;
  const size_t max_bytes_;
  std::mutex mutex_;
  Lru lru_;  // most recently used first
  std::unordered_map<int64_t, Lru::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_BLIND_IMAGE_H_

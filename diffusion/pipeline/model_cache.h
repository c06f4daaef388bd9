// Loaded Stable Diffusion models kept for reuse, keyed by the content of
// their files (so two paths to the same weights share one entry, and a file
// replaced in place is loaded again) and the device/dtype, within a memory
// budget: least recently used models that no caller holds are evicted when
// a new one would exceed it. File hashes are remembered per (path, size,
// mtime), so a 4 GB checkpoint is hashed once, not per request.
//
// Thread-safe. Two requests for a model not yet loaded load it once; the
// second waits for the first.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_MODEL_CACHE_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_MODEL_CACHE_H_

#include <cstdint>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "diffusion/pipeline/stable_diffusion_models.h"

namespace dreamshot::diffusion {

struct ModelKey {
  std::string path;        // diffusers folder or single checkpoint file
  std::string config_dir;  // single files: the diffusers folder with the configs
  core::DeviceSpec spec;
};

struct ModelCacheStats {
  int64_t loads = 0, hits = 0, evictions = 0;
  int64_t resident_bytes = 0;  // parameters of the cached models
  int64_t entries = 0;
};

class ModelCache {
 public:
  explicit ModelCache(int64_t budget_bytes) : budget_bytes_(budget_bytes) {}

  // The models of `key`, loaded on first use. The returned pointer keeps
  // them alive even if the cache evicts them meanwhile.
  absl::StatusOr<std::shared_ptr<StableDiffusionModels>> Get(const ModelKey& key);
  // SHA-256 over the files of a model source (for a folder: its configs,
  // tokenizer and weight files, by relative path).
  absl::StatusOr<std::string> ContentHash(const std::string& path, const std::string& config_dir);

  // A file's SHA-256, remembered by (path, size, mtime): LoRA files applied
  // per request are hashed once, not every time.
  absl::StatusOr<std::string> FileSha256(const std::string& path);
  // What a generated image records as its model hash: a single
  // checkpoint's own SHA-256 (what A1111 and civitai show), or a folder's
  // ContentHash.
  absl::StatusOr<std::string> ModelSha256(const std::string& path, const std::string& config_dir);

  ModelCacheStats stats() const;

 private:
  using LoadResult = absl::StatusOr<std::shared_ptr<StableDiffusionModels>>;
  struct Entry {
    std::string id;  // content hash + device spec
    std::shared_future<LoadResult> models;
    int64_t bytes = 0;  // 0 while loading
  };
  static LoadResult Load(const ModelKey& key);
  // On-disk size of the weights: the estimate that makes room before a load.
  static int64_t WeightFileBytes(const ModelKey& key);
  // Drops least recently used idle models (no caller holds them) until
  // resident + incoming bytes fit the budget; never `keep_id`.
  void EvictLocked(const std::string& keep_id, int64_t incoming_bytes);

  const int64_t budget_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  std::map<std::string, std::string> file_hashes_;  // "path|size|mtime" → sha256
  ModelCacheStats stats_;
};

// Bytes of every parameter and buffer of the loaded networks.
int64_t ParameterBytes(StableDiffusionModels& models);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_MODEL_CACHE_H_

#include "diffusion/pipeline/model_cache.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model_source.h"
#include "core/sha256.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {
namespace {

namespace fs = std::filesystem;

int64_t ModuleBytes(torch::nn::Module& module) {
  int64_t bytes = 0;
  for (const at::Tensor& p : module.parameters()) bytes += p.numel() * p.element_size();
  for (const at::Tensor& b : module.buffers()) bytes += b.numel() * b.element_size();
  return bytes;
}

// The files that define a model in a diffusers folder.
bool IsModelFile(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".json" || ext == ".safetensors" || ext == ".bin" || ext == ".ckpt" || ext == ".txt";
}

}  // namespace

int64_t ParameterBytes(StableDiffusionModels& models) {
  return ModuleBytes(models.text_encoder->module()) + ModuleBytes(models.unet->module()) +
         ModuleBytes(models.vae->module());
}

absl::StatusOr<std::string> ModelCache::FileSha256(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("model file not readable: ", path, ": ", ec.message()));
  const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  const std::string memo_key = absl::StrCat(path, "|", size, "|", mtime);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = file_hashes_.find(memo_key);
    if (it != file_hashes_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::string hash, core::Sha256HexOfFile(path));
  std::lock_guard<std::mutex> lock(mu_);
  file_hashes_[memo_key] = hash;
  return hash;
}

absl::StatusOr<std::string> ModelCache::ContentHash(const std::string& path, const std::string& config_dir) {
  std::vector<std::string> parts;
  auto add_folder = [&](const std::string& folder, const std::string& label) -> absl::Status {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file() && IsModelFile(it->path())) files.push_back(it->path());
    }
    if (ec) return absl::NotFoundError(absl::StrCat("model folder not readable: ", folder, ": ", ec.message()));
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      ASSIGN_OR_RETURN(std::string h, FileSha256(f.string()));
      parts.push_back(absl::StrCat(label, fs::relative(f, folder).string(), "=", h));
    }
    return absl::OkStatus();
  };
  if (fs::is_directory(path)) {
    RETURN_IF_ERROR(add_folder(path, ""));
  } else {
    ASSIGN_OR_RETURN(std::string h, FileSha256(path));
    parts.push_back(absl::StrCat("checkpoint=", h));
    if (!config_dir.empty()) RETURN_IF_ERROR(add_folder(config_dir, "config/"));
  }
  return core::Sha256Hex(absl::StrJoin(parts, "\n"));
}

absl::StatusOr<std::string> ModelCache::ModelSha256(const std::string& path, const std::string& config_dir) {
  if (fs::is_directory(path)) return ContentHash(path, config_dir);
  return FileSha256(path);
}

absl::StatusOr<std::shared_ptr<StableDiffusionModels>> ModelCache::Get(const ModelKey& key) {
  ASSIGN_OR_RETURN(std::string content, ContentHash(key.path, key.config_dir));
  const std::string id = absl::StrCat(content, "@", key.spec.ToString());
  std::shared_ptr<std::promise<LoadResult>> promise;
  std::shared_future<LoadResult> future;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
    if (it != entries_.end()) {
      entries_.splice(entries_.begin(), entries_, it);  // now the most recently used
      ++stats_.hits;
      future = it->models;
    } else {
      promise = std::make_shared<std::promise<LoadResult>>();
      future = promise->get_future().share();
      entries_.push_front({id, future, 0});
      // Make room before loading, so that the old and the new model are
      // not resident together when the budget cannot hold both.
      EvictLocked(id, WeightFileBytes(key));
    }
  }
  if (promise == nullptr) return future.get();  // loaded, or being loaded by another caller

  LoadResult result = Load(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
    if (!result.ok()) {
      entries_.erase(it);  // failures are not cached: the next call tries again
    } else {
      it->bytes = ParameterBytes(**result);
      stats_.resident_bytes += it->bytes;
      ++stats_.loads;
      EvictLocked(id, 0);
    }
    stats_.entries = static_cast<int64_t>(entries_.size());
  }
  promise->set_value(result);
  return result;
}

ModelCache::LoadResult ModelCache::Load(const ModelKey& key) {
  ASSIGN_OR_RETURN(core::ModelSource source, core::ModelSource::Open(key.path, key.config_dir));
  ASSIGN_OR_RETURN(StableDiffusionModels models, StableDiffusionModels::Load(source, key.spec));
  return std::make_shared<StableDiffusionModels>(std::move(models));
}

int64_t ModelCache::WeightFileBytes(const ModelKey& key) {
  std::error_code ec;
  if (!fs::is_directory(key.path)) return static_cast<int64_t>(fs::file_size(key.path, ec));
  int64_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(key.path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (it->is_regular_file() && (ext == ".safetensors" || ext == ".bin" || ext == ".ckpt")) {
      bytes += static_cast<int64_t>(it->file_size());
    }
  }
  return bytes;
}

ModelCacheStats ModelCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void ModelCache::EvictLocked(const std::string& keep_id, int64_t incoming_bytes) {
  for (auto it = entries_.end(); it != entries_.begin() && stats_.resident_bytes + incoming_bytes > budget_bytes_;) {
    --it;
    if (it->id == keep_id || it->bytes == 0) continue;  // the one wanted, or still loading
    // Ready (bytes > 0 is set only after a successful load): idle when the
    // cache holds the only reference.
    if (it->models.get().value().use_count() > 1) continue;
    stats_.resident_bytes -= it->bytes;
    ++stats_.evictions;
    it = entries_.erase(it);
  }
  stats_.entries = static_cast<int64_t>(entries_.size());
}

}  // namespace dreamshot::diffusion

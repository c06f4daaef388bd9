#include "core/encoding_cache.h"

#include <torch/torch.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/safetensors.h"
#include "core/sha256.h"
#include "core/status_macros.h"

namespace dreamshot::core {
namespace {

constexpr char kKeyMetadata[] = "dreamshot.cache_key";

void HashTensor(const std::string& name, const at::Tensor& tensor, core::Sha256Hasher& hasher) {
  const at::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  hasher.Update(absl::StrCat(name, "|", core::DtypeName(t.scalar_type()), "|", absl::StrJoin(t.sizes(), ","), "\n"));
  hasher.Update(absl::string_view(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
}

}  // namespace

absl::StatusOr<std::string> WeightsFingerprint(torch::nn::Module& module) {
  try {
    core::Sha256Hasher hasher;
    for (const auto& p : module.named_parameters(/*recurse=*/true)) HashTensor(p.key(), p.value(), hasher);
    for (const auto& b : module.named_buffers(/*recurse=*/true)) HashTensor(b.key(), b.value(), hasher);
    return hasher.FinalHex();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("fingerprinting weights failed: ", e.what_without_backtrace()));
  }
}

std::string CacheKey(const CacheKeyParts& parts) {
  std::string text;
  for (const auto& [name, value] : parts) absl::StrAppend(&text, name, "=", value, "\n");
  return core::Sha256Hex(text);
}

EncodingCache::EncodingCache(std::string root, std::string kind) : root_(std::move(root)), kind_(std::move(kind)) {}

std::string EncodingCache::PathOf(const CacheKeyParts& parts) const {
  const std::string key = CacheKey(parts);
  return (std::filesystem::path(root_) / kind_ / key.substr(0, 2) / (key + ".safetensors")).string();
}

std::optional<CacheEntry> EncodingCache::Find(const CacheKeyParts& parts, const CacheEntrySpec& spec) {
  const std::string path = PathOf(parts);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    ++stats_.misses;
    return std::nullopt;
  }
  auto damaged = [&]() -> std::optional<CacheEntry> {
    ++stats_.damaged;
    ++stats_.misses;
    return std::nullopt;
  };
  absl::StatusOr<core::SafetensorsFile> file = core::SafetensorsFile::Open(path);
  if (!file.ok()) return damaged();
  auto key = file->metadata().find(kKeyMetadata);
  if (key == file->metadata().end() || key->second != CacheKey(parts)) return damaged();
  CacheEntry out;
  for (const auto& [name, shape] : spec.shapes) {
    absl::StatusOr<at::Tensor> t = file->Load(name);
    if (!t.ok() || t->scalar_type() != spec.dtype || t->sizes() != c10::IntArrayRef(shape)) return damaged();
    out.tensors[name] = t->clone();  // off the mapping: the entry may be rewritten while the tensor lives
  }
  out.record = file->metadata();
  ++stats_.hits;
  return out;
}

absl::Status EncodingCache::Store(const CacheKeyParts& parts, const std::map<std::string, at::Tensor>& tensors,
                                  const std::map<std::string, std::string>& record) {
  const std::string path = PathOf(parts);
  RETURN_IF_ERROR(core::MakeDirectories(std::filesystem::path(path).parent_path().string()));
  std::map<std::string, std::string> metadata = record;
  for (const auto& [name, value] : parts) metadata[absl::StrCat("dreamshot.", name)] = value;
  metadata[kKeyMetadata] = CacheKey(parts);
  std::vector<std::pair<std::string, at::Tensor>> named(tensors.begin(), tensors.end());
  RETURN_IF_ERROR(core::WriteSafetensors(path, named, metadata));
  ++stats_.stored;
  return absl::OkStatus();
}

}  // namespace dreamshot::core

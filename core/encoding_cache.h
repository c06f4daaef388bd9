// On-disk cache of what a network computed from an input that is costly to
// compute again: the VAE's latent distribution of a training image, the text
// encoder's states of a prompt (trainer/), an image's CLIP or DINO embedding
// (evaluator/). An entry is a safetensors file named by the SHA-256 of its key
// parts (image or token ids, weights fingerprint, device and dtype,
// preprocessing), under <root>/<kind>/<first two hex digits>/<key>.safetensors,
// with the parts in its __metadata__ so a file says what made it. Entries
// are written atomically; one that does not open, lacks a tensor, has an
// unexpected shape or dtype, or records another key is a miss and is
// rewritten by the next Store, so a damaged cache costs time, never
// correctness.
//
// Latents are cached as the distribution (mean and logvar), not as a
// sample: a run still draws its own sample from its generator, so a cached
// run gives the latents an uncached run gives, bit for bit.
#ifndef DREAMSHOT_CORE_ENCODING_CACHE_H_
#define DREAMSHOT_CORE_ENCODING_CACHE_H_

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::core {

// SHA-256 over a module's parameters and buffers (each name, dtype, shape
// and bytes, in registration order): the same weights give the same
// fingerprint whatever file or format they were loaded from. Hashes every
// byte (SD 1.5's VAE and text encoder, 830 MB in fp32, take a few seconds
// at the 200 MB/s measured on a loaded two-core Xeon), so callers encoding
// several image sets with one model compute it once and pass it on.
absl::StatusOr<std::string> WeightsFingerprint(torch::nn::Module& module);

// Names the cached value: SHA-256 over the sorted "name=value" lines.
using CacheKeyParts = std::map<std::string, std::string>;
std::string CacheKey(const CacheKeyParts& parts);

// What an entry must hold: tensor names with their shapes and dtype.
struct CacheEntrySpec {
  std::map<std::string, std::vector<int64_t>> shapes;
  c10::ScalarType dtype = c10::kFloat;
};

struct CacheEntry {
  std::map<std::string, at::Tensor> tensors;  // CPU copies that own their memory
  std::map<std::string, std::string> record;  // as stored
};

struct EncodingCacheStats {
  int64_t hits = 0, misses = 0;
  int64_t damaged = 0;  // entries present but unusable (counted as misses too)
  int64_t stored = 0;
};

class EncodingCache {
 public:
  // `kind` is the sub-folder ("latents", "text").
  EncodingCache(std::string root, std::string kind);

  // The entry for `parts`, or nullopt on a miss.
  std::optional<CacheEntry> Find(const CacheKeyParts& parts, const CacheEntrySpec& spec);
  // Writes (or replaces) the entry; `record` adds metadata that is not part
  // of the key (e.g. the prompt that made a text entry).
  absl::Status Store(const CacheKeyParts& parts, const std::map<std::string, at::Tensor>& tensors,
                     const std::map<std::string, std::string>& record = {});

  std::string PathOf(const CacheKeyParts& parts) const;
  const EncodingCacheStats& stats() const { return stats_; }

 private:
  std::string root_, kind_;
  EncodingCacheStats stats_;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_ENCODING_CACHE_H_

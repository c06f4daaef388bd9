#include "evaluator/embedding_cache.h"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"

namespace dreamshot::evaluator {
namespace {

core::CacheKeyParts KeyOf(const Embedder& e, const std::string& sha256) {
  return {{"kind", e.kind},
          {"weights_fingerprint", e.weights_fingerprint},
          {"preprocessing", e.preprocessing.Describe()},
          {"image_sha256", sha256}};
}

absl::Status CheckEmbedder(const Embedder& e, int64_t batch_size) {
  if (!e.embed) return absl::InvalidArgumentError("embedder: no embedding function");
  if (e.kind.empty()) return absl::InvalidArgumentError("embedder: no kind (it names the cache entries)");
  if (e.dim < 1) return absl::InvalidArgumentError(absl::StrCat("embedder '", e.kind, "': dim must be ≥ 1"));
  if (batch_size < 1) return absl::InvalidArgumentError(absl::StrCat("batch size must be ≥ 1, got ", batch_size));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<at::Tensor> EmbedImages(absl::Span<const ImageToEmbed> images, const Embedder& embedder,
                                       int64_t batch_size, core::EncodingCache* cache, EmbedStats* stats) {
  RETURN_IF_ERROR(CheckEmbedder(embedder, batch_size));
  const int64_t n = static_cast<int64_t>(images.size());
  at::Tensor out = torch::empty({n, embedder.dim}, torch::kFloat);
  const core::CacheEntrySpec spec{{{"embedding", {embedder.dim}}}, c10::kFloat};
  std::vector<int64_t> missing;
  for (int64_t i = 0; i < n; ++i) {
    if (images[i].image == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("image '", images[i].name, "': no pixels"));
    }
    std::optional<core::CacheEntry> hit;
    if (cache != nullptr && !images[i].sha256.empty()) hit = cache->Find(KeyOf(embedder, images[i].sha256), spec);
    if (hit) {
      out[i].copy_(hit->tensors.at("embedding"));
      if (stats != nullptr) ++stats->cached;
    } else {
      missing.push_back(i);
    }
  }
  for (size_t begin = 0; begin < missing.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(missing.size(), begin + static_cast<size_t>(batch_size));
    std::vector<Image8> batch;
    for (size_t k = begin; k < end; ++k) batch.push_back(*images[missing[k]].image);
    absl::StatusOr<at::Tensor> pixels = PreprocessBatch(batch, embedder.preprocessing);
    if (!pixels.ok()) {
      return absl::Status(pixels.status().code(), absl::StrCat("preprocessing images '", images[missing[begin]].name,
                                                               "'..: ", pixels.status().message()));
    }
    ASSIGN_OR_RETURN(at::Tensor embedded, embedder.embed(*pixels));
    const int64_t rows = static_cast<int64_t>(end - begin);
    if (!embedded.defined() || embedded.dim() != 2 || embedded.size(0) != rows || embedded.size(1) != embedder.dim) {
      return absl::InvalidArgumentError(
          absl::StrCat("embedder '", embedder.kind, "' returned ",
                       embedded.defined() ? absl::StrCat("[", absl::StrJoin(embedded.sizes(), ", "), "]") : "nothing",
                       " for a batch of ", rows, " images; expected [", rows, ", ", embedder.dim, "]"));
    }
    embedded = embedded.detach().to(torch::kCPU, torch::kFloat).contiguous();
    for (int64_t r = 0; r < rows; ++r) {
      const ImageToEmbed& image = images[missing[begin + r]];
      const at::Tensor row = embedded[r].clone();
      if (!torch::isfinite(row).all().item<bool>()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "embedder '", embedder.kind, "' gave a NaN or infinite embedding for image '", image.name, "'"));
      }
      out[missing[begin + r]].copy_(row);
      if (cache != nullptr && !image.sha256.empty()) {
        RETURN_IF_ERROR(cache->Store(KeyOf(embedder, image.sha256), {{"embedding", row}}, {{"image", image.name}}));
      }
      if (stats != nullptr) ++stats->computed;
    }
  }
  return out;
}

}  // namespace dreamshot::evaluator

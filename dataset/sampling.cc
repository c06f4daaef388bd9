#include "dataset/sampling.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"

namespace dreamshot::dataset {
namespace {

// Uniform in [0, bound) by rejection: no modulo bias, and no dependence on
// the standard library's distribution implementations (which differ).
uint64_t Below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % bound;
}

}  // namespace

void SeededShuffle(std::vector<int64_t>& ids, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[Below(rng, i)]);
}

absl::StatusOr<std::map<std::string, std::vector<int64_t>>> DrawSplits(const std::vector<PoolEntry>& pool,
                                                                       const SplitOptions& options) {
  const int64_t k = static_cast<int64_t>(options.scales.size());
  if (k == 0) return absl::InvalidArgumentError("no shot scales to draw from");
  if (options.train_per_scale < 0 || options.eval_total < 0) {
    return absl::InvalidArgumentError("split sizes must be ≥ 0");
  }
  if (options.eval_total % k != 0) {
    return absl::InvalidArgumentError(absl::StrCat("eval_total ", options.eval_total, " does not split evenly over ",
                                                   k, " shot scales"));
  }
  const int64_t eval_per_scale = options.eval_total / k;
  std::map<std::string, std::vector<int64_t>> splits;
  std::vector<std::vector<int64_t>> eval_by_scale;
  for (size_t s = 0; s < options.scales.size(); ++s) {
    const ShotScale scale = options.scales[s];
    std::vector<int64_t> ids;
    for (const PoolEntry& e : pool) {
      if (e.scale == scale && e.confidence >= options.min_confidence) ids.push_back(e.id);
    }
    std::sort(ids.begin(), ids.end());
    const int64_t need = options.train_per_scale + eval_per_scale;
    if (static_cast<int64_t>(ids.size()) < need) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the pool has ", ids.size(), " ", ShotScaleName(scale), " shots with confidence ≥ ", options.min_confidence,
          "; the splits need ", need, " (", options.train_per_scale, " train + ", eval_per_scale, " eval)"));
    }
    // Each scale gets its own stream, so adding a scale does not change
    // the draws of the others.
    SeededShuffle(ids, options.seed + 0x9E3779B97F4A7C15ull * (static_cast<uint64_t>(scale) + 1));
    splits[absl::StrCat("train/", ShotScaleName(scale))] =
        std::vector<int64_t>(ids.begin(), ids.begin() + options.train_per_scale);
    eval_by_scale.emplace_back(ids.begin() + options.train_per_scale, ids.begin() + need);
  }
  std::vector<int64_t>& eval = splits["eval"];
  for (int64_t i = 0; i < eval_per_scale; ++i) {
    for (const auto& ids : eval_by_scale) eval.push_back(ids[i]);
  }
  return splits;
}

}  // namespace dreamshot::dataset

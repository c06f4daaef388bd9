#include "survey/assignment.h"

#include <algorithm>
#include <random>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::survey {
namespace {

uint64_t SplitMix64(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, n), n >= 1. Rejects the lowest 2^64 mod n raw values so the
// remaining ones are a whole number of copies of [0, n): unbiased, and unlike
// std::uniform_int_distribution the same on every standard library.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t n) {
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  while (true) {
    const uint64_t x = rng();
    if (x >= threshold) return x % n;
  }
}

// Fisher–Yates, back to front; our own for the same reason as UniformBelow.
template <typename T>
void Shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(UniformBelow(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

int64_t CountOf(const std::map<int64_t, int64_t>& counts, int64_t id) {
  auto it = counts.find(id);
  return it == counts.end() ? 0 : it->second;
}

// The `take` least-shown of `ids` (sorted by id on entry); a random shuffle
// before a stable sort by count makes ties fall randomly.
std::vector<int64_t> LeastShown(std::vector<int64_t> ids, size_t take, const std::map<int64_t, int64_t>& counts,
                                std::mt19937_64& rng) {
  Shuffle(ids, rng);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](int64_t a, int64_t b) { return CountOf(counts, a) < CountOf(counts, b); });
  ids.resize(std::min(take, ids.size()));
  return ids;
}

// How many pairs each type gives: equal shares, capped at each type's size
// (the shortfall is re-shared among the types that still have pairs), and a
// final remainder of r < k pairs given to a block of r consecutive types
// starting at (participant_index * r) mod k. Consecutive participants' blocks
// tile the types in turn, so every type gets the extra equally often.
std::vector<size_t> Quotas(const std::vector<size_t>& sizes, size_t total, int64_t participant_index) {
  std::vector<size_t> quota(sizes.size(), 0);
  size_t remaining = total;  // <= sum(sizes), so some type always has room
  while (remaining > 0) {
    std::vector<size_t> active;
    for (size_t t = 0; t < sizes.size(); ++t) {
      if (quota[t] < sizes[t]) active.push_back(t);
    }
    const size_t k = active.size();
    const size_t share = remaining / k;
    if (share > 0) {
      for (size_t t : active) {
        const size_t add = std::min(share, sizes[t] - quota[t]);
        quota[t] += add;
        remaining -= add;
      }
      continue;
    }
    // remaining < k: every active type has room for one more.
    const int64_t k64 = static_cast<int64_t>(k);
    const size_t rotation = static_cast<size_t>(((participant_index % k64) + k64) % k64);
    const size_t start = (rotation * remaining) % k;
    for (size_t j = 0; j < remaining; ++j) ++quota[active[(start + j) % k]];
    remaining = 0;
  }
  return quota;
}

// `n` side flags, half of them true; when n is odd the extra one is
// `odd_extra` if given, else random.
// (char, not bool: vector<bool>'s proxy references do not swap portably.)
std::vector<char> BalancedFlags(size_t n, std::mt19937_64& rng, int odd_extra, bool* extra_out) {
  std::vector<char> flags(n, 0);
  for (size_t i = 0; i < n / 2; ++i) flags[i] = 1;
  if (n % 2 == 1) {
    const bool extra = odd_extra >= 0 ? odd_extra == 1 : UniformBelow(rng, 2) == 1;
    flags[n - 1] = extra;
    if (extra_out != nullptr) *extra_out = extra;
  }
  Shuffle(flags, rng);
  return flags;
}

absl::Status Validate(const std::vector<PoolPair>& pool, const std::vector<PoolPair>& attention_pairs,
                      const AssignmentOptions& options) {
  if (pool.empty()) return absl::InvalidArgumentError("the survey has no pairs to assign");
  if (options.pairs_per_participant < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pairs_per_participant must be at least 1, got ", options.pairs_per_participant));
  }
  if (options.attention_checks < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention_checks must not be negative, got ", options.attention_checks));
  }
  if (options.attention_checks > 0 && attention_pairs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention_checks is ", options.attention_checks, " but there are no attention pairs"));
  }
  std::set<int64_t> seen;
  for (const auto* list : {&pool, &attention_pairs}) {
    for (const PoolPair& p : *list) {
      if (!seen.insert(p.id).second)
        return absl::InvalidArgumentError(absl::StrCat("pair id ", p.id, " appears twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<AssignedItem>> AssignPairs(const std::vector<PoolPair>& pool,
                                                      const std::vector<PoolPair>& attention_pairs,
                                                      const std::map<int64_t, int64_t>& shown_counts,
                                                      int64_t participant_index, const AssignmentOptions& options) {
  if (absl::Status s = Validate(pool, attention_pairs, options); !s.ok()) return s;
  std::mt19937_64 rng(SplitMix64(SplitMix64(options.seed) ^ static_cast<uint64_t>(participant_index)));

  // Group by type (std::map: name order) with ids sorted, so the result does
  // not depend on the order the pool was listed in.
  std::map<std::string, std::vector<int64_t>> by_type;
  for (const PoolPair& p : pool) by_type[p.shot_type].push_back(p.id);
  std::vector<size_t> sizes;
  for (auto& [type, ids] : by_type) {
    std::sort(ids.begin(), ids.end());
    sizes.push_back(ids.size());
  }
  const size_t total = std::min(pool.size(), static_cast<size_t>(options.pairs_per_participant));
  const std::vector<size_t> quota = Quotas(sizes, total, participant_index);

  std::vector<int64_t> chosen;
  size_t t = 0;
  for (const auto& [type, ids] : by_type) {
    for (int64_t id : LeastShown(ids, quota[t++], shown_counts, rng)) chosen.push_back(id);
  }
  std::vector<int64_t> attention_ids;
  for (const PoolPair& p : attention_pairs) attention_ids.push_back(p.id);
  std::sort(attention_ids.begin(), attention_ids.end());
  const std::vector<int64_t> checks =
      LeastShown(attention_ids, static_cast<size_t>(options.attention_checks), shown_counts, rng);

  // Sides: balanced over the real pairs; the attention checks' odd extra
  // (if any) opposes the real pairs' one, so all items together stay ±1 too.
  bool real_extra = false;
  const std::vector<char> real_sides = BalancedFlags(chosen.size(), rng, -1, &real_extra);
  const int check_extra = chosen.size() % 2 == 1 ? (real_extra ? 0 : 1) : -1;
  const std::vector<char> check_sides = BalancedFlags(checks.size(), rng, check_extra, nullptr);

  std::vector<AssignedItem> items;
  for (size_t i = 0; i < chosen.size(); ++i) items.push_back({chosen[i], real_sides[i] != 0, false});
  Shuffle(items, rng);
  // Each check goes to a uniform slot after the first item (the pool is
  // never empty): a uniform order among those that start with a real pair.
  for (size_t i = 0; i < checks.size(); ++i) {
    const size_t pos = 1 + static_cast<size_t>(UniformBelow(rng, items.size()));
    items.insert(items.begin() + static_cast<std::ptrdiff_t>(pos), AssignedItem{checks[i], check_sides[i] != 0, true});
  }
  return items;
}

}  // namespace dreamshot::survey

// Near-duplicate search over 64-bit perceptual hashes: every id within
// Hamming distance r of a query, at 100k+ items, and dedup built on it.
//
// Multi-index hashing (Norouzi, Punjani, Fleet, "Fast Search in Hamming
// Space with Multi-Index Hashing", CVPR 2012): the 64 bits are split into m
// blocks (default 4 × 16 bits) with a table per block from block value to
// the items holding it. Write r = s·m + a (0 ≤ a < m). If every block of an
// item differed from the query's in more than s bits for blocks 0..a and more
// than s − 1 for the others, the item would differ in ≥ r + 1 bits; so probing
// blocks 0..a at block radius s and the rest at s − 1 finds every item within
// r (exact, no misses), then each candidate's full distance is checked.
// r = 6: 3 × 17 + 1 = 52 bucket probes; r = 10: 3 × 137 + 17 = 428.
// 16-bit blocks give ~n/65536 items per bucket, so probes stay cheap to
// millions of items. When probing would cost more than scanning (small
// indexes, large r) the query scans all items instead; the answer is the same.
//
// Chosen by measurement (hash_index_benchmark.cc: 101k hashes, random plus
// planted near copies; CPU time per query on a loaded 2-core 2.3 GHz VM):
//   radius 6:  this index 2–3 µs, linear scan ~200 µs, BK-tree ~2 ms;
//   radius 10: this index 22–28 µs, linear scan ~200 µs, BK-tree ~15 ms.
// A BK-tree prunes little here: 64-bit hashes of unrelated content sit
// 32 ± 4 apart, so at most nodes the window [d − r, d + r] keeps most
// children, and it visits them in pointer-chasing order. Building the index
// costs 60–80 ms for 101k items (the BK-tree 40–50 ms).
//
// Memory: an index starts with 4 × 65536 empty buckets (6 MB) and takes
// ~100 bytes per item. Results are deterministic: sorted by distance, then
// by insertion order. Queries are const and may run concurrently; Add may not
// run with them.
#ifndef DREAMSHOT_DATASET_FILTERS_HASH_INDEX_H_
#define DREAMSHOT_DATASET_FILTERS_HASH_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dreamshot::dataset::filters {

struct HashMatch {
  int64_t id = 0;
  int distance = 0;
  bool operator==(const HashMatch& o) const { return id == o.id && distance == o.distance; }
};

class HashIndex {
 public:
  static constexpr int kDefaultBlocks = 4;

  // 4 blocks of 16 bits.
  HashIndex();
  // num_blocks in [4, 16] (blocks of 16 down to 4 bits); INVALID_ARGUMENT
  // otherwise. 4 (~n/65536 items per bucket) was measured at 100k items;
  // more, narrower blocks probe fewer values at large radii but hold more
  // items per bucket.
  static absl::StatusOr<HashIndex> Create(int num_blocks);

  // ALREADY_EXISTS when `id` was added before.
  absl::Status Add(int64_t id, uint64_t hash);
  void Reserve(size_t n);

  // Every item within `radius` bits (clamped to [0, 64]; negative → none),
  // nearest first, ties in insertion order.
  std::vector<HashMatch> WithinRadius(uint64_t hash, int radius) const;
  // The first of WithinRadius, or nullopt.
  std::optional<HashMatch> Nearest(uint64_t hash, int radius) const;

  bool Contains(int64_t id) const { return positions_.contains(id); }
  size_t size() const { return hashes_.size(); }
  int num_blocks() const { return static_cast<int>(blocks_.size()); }

 private:
  struct Entry {
    uint64_t hash;      // kept beside the position: checking a candidate
    uint32_t position;  // costs no second memory access
  };
  struct Block {
    int shift = 0, bits = 0;
    std::vector<std::vector<Entry>> buckets;  // 2^bits, indexed by block value
  };

  explicit HashIndex(int num_blocks);
  // Bucket probes a query of `radius` makes.
  int64_t ProbeCount(int radius) const;
  // Appends (distance, position) of items within radius.
  void Probe(uint64_t hash, int radius, std::vector<std::pair<int, uint32_t>>* found) const;
  void Scan(uint64_t hash, int radius, std::vector<std::pair<int, uint32_t>>* found) const;

  std::vector<Block> blocks_;
  std::vector<uint64_t> hashes_;  // by insertion position
  std::vector<int64_t> ids_;
  absl::flat_hash_map<int64_t, uint32_t> positions_;
};

// Default near-duplicate threshold, in pHash bits. On the 91 OpenCV sample
// images a half-size resize, JPEG quality 40, +20 brightness or ×1.1
// contrast move the pHash by ≤ 4 bits (6 for a near-white photo that +20
// clips; a pure gradient, whose AC coefficients are ~0, hashes to noise),
// consecutive video frames (basketball1/2, rubberwhale1/2) are 0–2 apart,
// and distinct pictures ≥ 6: two pairs of photos of the same chessboard in
// slightly moved poses sit at 6, every other pair ≥ 8. Unrelated hashes
// differ in 32 ± 4 bits; P(≤ 6) ≈ 4·10⁻¹², so chance collisions are
// negligible even across the 5·10⁹ pairs of 100k frames. A 2% crop moves
// pHash by up to 18 bits: crops are not duplicates here. (Median-threshold
// pHashes set 31 bits unless coefficients tie, so distances are even: 6
// means three swapped bit pairs.)
inline constexpr int kDefaultDedupDistance = 6;

// Why an item was not kept.
struct Duplicate {
  int64_t id = 0;
  int64_t duplicate_of = 0;  // the nearest earlier kept item (ties: earliest)
  int distance = 0;
};

// Fed items in order, keeps each that is not within max_distance of an
// earlier kept item. Only kept items are indexed, so near-duplicates do not
// chain: with A kept, B 5 bits from A and C 5 bits from B but 10 from A,
// B is dropped as a duplicate of A and C is kept.
class Deduplicator {
 public:
  explicit Deduplicator(int max_distance = kDefaultDedupDistance) : max_distance_(max_distance) {}

  // nullopt: kept. ALREADY_EXISTS when `id` was offered before.
  absl::StatusOr<std::optional<Duplicate>> Offer(int64_t id, uint64_t hash);

  const HashIndex& kept() const { return kept_; }
  int max_distance() const { return max_distance_; }

 private:
  int max_distance_;
  HashIndex kept_;
  absl::flat_hash_set<int64_t> dropped_;
};

struct HashedItem {
  int64_t id = 0;
  uint64_t hash = 0;
};
// Runs a Deduplicator over `items` in order; the duplicates, in input order.
absl::StatusOr<std::vector<Duplicate>> FindDuplicates(const std::vector<HashedItem>& items,
                                                      int max_distance = kDefaultDedupDistance);

}  // namespace dreamshot::dataset::filters

#endif  // DREAMSHOT_DATASET_FILTERS_HASH_INDEX_H_

#include "dataset/filters/hash_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "dataset/filters/perceptual_hash.h"

namespace dreamshot::dataset::filters {
namespace {

// The reference: every item, in insertion order, stably sorted by distance.
std::vector<HashMatch> BruteForce(const std::vector<uint64_t>& hashes, uint64_t q, int radius) {
  std::vector<HashMatch> out;
  for (size_t i = 0; i < hashes.size(); ++i) {
    const int d = HammingDistance(q, hashes[i]);
    if (d <= radius) out.push_back({static_cast<int64_t>(i) * 10 + 7, d});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const HashMatch& a, const HashMatch& b) { return a.distance < b.distance; });
  return out;
}

uint64_t FlipRandomBits(uint64_t h, int count, std::mt19937_64& rng) {
  std::vector<int> bits(64);
  for (int i = 0; i < 64; ++i) bits[i] = i;
  std::shuffle(bits.begin(), bits.end(), rng);
  for (int i = 0; i < count; ++i) h ^= uint64_t{1} << bits[i];
  return h;
}

// Random hashes plus clusters of near copies, so every radius has answers.
std::vector<uint64_t> RandomWithNearCopies(int n, std::mt19937_64& rng) {
  std::vector<uint64_t> hashes;
  while (static_cast<int>(hashes.size()) < n) {
    const uint64_t base = rng();
    hashes.push_back(base);
    if (rng() % 4 == 0) {
      for (int k = 0; k < 3 && static_cast<int>(hashes.size()) < n; ++k) {
        hashes.push_back(FlipRandomBits(base, static_cast<int>(rng() % 13), rng));
      }
    }
  }
  return hashes;
}

class HashIndexPropertyTest : public ::testing::TestWithParam<int> {};

TEST_P(HashIndexPropertyTest, MatchesBruteForce) {
  const int num_blocks = GetParam();
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed * 1000 + num_blocks);
    // 20000 items: large enough that small radii probe instead of scanning.
    const std::vector<uint64_t> hashes = RandomWithNearCopies(20000, rng);
    absl::StatusOr<HashIndex> index = HashIndex::Create(num_blocks);
    ASSERT_TRUE(index.ok()) << index.status();
    for (size_t i = 0; i < hashes.size(); ++i) {
      ASSERT_TRUE(index->Add(static_cast<int64_t>(i) * 10 + 7, hashes[i]).ok());
    }
    for (int q = 0; q < 200; ++q) {
      // Half the queries near a stored hash, half random.
      const uint64_t query =
          q % 2 ? rng()
                : FlipRandomBits(hashes[rng() % hashes.size()], static_cast<int>(rng() % 8), rng);
      for (int radius : {0, 1, 3, 6, 7, 10, 12, 20}) {
        const std::vector<HashMatch> want = BruteForce(hashes, query, radius);
        ASSERT_EQ(index->WithinRadius(query, radius), want)
            << "seed " << seed << " blocks " << num_blocks << " radius " << radius;
        const std::optional<HashMatch> nearest = index->Nearest(query, radius);
        ASSERT_EQ(nearest.has_value(), !want.empty());
        if (nearest) {
          EXPECT_EQ(*nearest, want.front());
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, HashIndexPropertyTest, ::testing::Values(4, 5, 7, 8, 16));

TEST(HashIndexTest, SmallIndexScansAndAgrees) {
  std::mt19937_64 rng(42);
  const std::vector<uint64_t> hashes = RandomWithNearCopies(50, rng);
  HashIndex index;
  for (size_t i = 0; i < hashes.size(); ++i) ASSERT_TRUE(index.Add(i * 10 + 7, hashes[i]).ok());
  for (int radius = -1; radius <= 70; ++radius) {
    const uint64_t query = hashes[radius & 31];
    EXPECT_EQ(index.WithinRadius(query, radius), BruteForce(hashes, query, radius)) << radius;
  }
  EXPECT_EQ(index.WithinRadius(hashes[0], 64).size(), hashes.size());
}

TEST(HashIndexTest, TiesKeepInsertionOrderAndIdsAreUnique) {
  HashIndex index;
  ASSERT_TRUE(index.Add(30, 0b0001).ok());
  ASSERT_TRUE(index.Add(10, 0b0010).ok());
  ASSERT_TRUE(index.Add(20, 0b0000).ok());
  EXPECT_EQ(index.WithinRadius(0, 1), (std::vector<HashMatch>{{20, 0}, {30, 1}, {10, 1}}));
  EXPECT_EQ(index.Nearest(0b0011, 1), (HashMatch{30, 1}));
  EXPECT_FALSE(index.Nearest(~uint64_t{0}, 6).has_value());
  EXPECT_EQ(index.Add(10, 99).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_TRUE(index.Contains(20));
  EXPECT_FALSE(index.Contains(99));
  EXPECT_EQ(HashIndex::Create(3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashIndex::Create(17).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DeduplicatorTest, DropsNearCopiesOfKeptItemsWithoutChaining) {
  const uint64_t a = 0x0123456789abcdefULL;
  const uint64_t b = a ^ 0x1f;            // 5 bits from a
  const uint64_t c = b ^ (0x1fULL << 8);  // 5 from b, 10 from a
  Deduplicator dedup;
  EXPECT_EQ(dedup.max_distance(), 6);
  EXPECT_FALSE(dedup.Offer(1, a)->has_value());
  absl::StatusOr<std::optional<Duplicate>> second = dedup.Offer(2, b);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->duplicate_of, 1);
  EXPECT_EQ((*second)->distance, 5);
  EXPECT_FALSE(dedup.Offer(3, c)->has_value());  // near b, but b was dropped
  EXPECT_EQ(dedup.kept().size(), 2u);
  EXPECT_EQ(dedup.Offer(2, 0).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dedup.Offer(3, 0).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(DeduplicatorTest, FindDuplicatesReportsNearestEarliestKept) {
  const uint64_t a = 0xfedcba9876543210ULL;
  const std::vector<HashedItem> items = {{100, a},       {101, a ^ 0x3},    {102, ~a},
                                         {103, a ^ 0x1}, {104, ~a ^ 0x100}, {105, a ^ 0x7f}};
  absl::StatusOr<std::vector<Duplicate>> dups = FindDuplicates(items);
  ASSERT_TRUE(dups.ok()) << dups.status();
  ASSERT_EQ(dups->size(), 3u);
  EXPECT_EQ((*dups)[0].id, 101);
  EXPECT_EQ((*dups)[0].duplicate_of, 100);
  EXPECT_EQ((*dups)[0].distance, 2);
  EXPECT_EQ((*dups)[1].id, 103);
  EXPECT_EQ((*dups)[1].duplicate_of, 100);
  EXPECT_EQ((*dups)[2].id, 104);
  EXPECT_EQ((*dups)[2].duplicate_of, 102);
  EXPECT_EQ((*dups)[2].distance, 1);  // 105 is 7 bits from 100: kept
  const std::vector<HashedItem> repeated = {{1, a}, {1, ~a}};
  EXPECT_EQ(FindDuplicates(repeated).status().code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace dreamshot::dataset::filters

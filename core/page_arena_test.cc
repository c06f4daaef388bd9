#include "core/page_arena.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

namespace dreamshot::core {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr int64_t kNoBound = std::numeric_limits<int64_t>::max();

TEST(PageArenaTest, FreedPagesServeSmallerBlocksBySplitting) {
  PageArena arena;
  void* big = arena.Allocate(8 * kMiB, kNoBound);
  ASSERT_NE(big, nullptr);
  std::memset(big, 1, 8 * kMiB);
  ASSERT_TRUE(arena.Free(big));
  EXPECT_EQ(arena.stats().resident_free_bytes, static_cast<int64_t>(8 * kMiB));
  void* a = arena.Allocate(3 * kMiB, kNoBound);
  void* b = arena.Allocate(3 * kMiB, kNoBound);
  EXPECT_EQ(a, big);
  EXPECT_EQ(b, static_cast<char*>(big) + 3 * kMiB);
  EXPECT_EQ(arena.stats().hits, 2);
  EXPECT_EQ(arena.stats().misses, 1);  // only the first mapping
  EXPECT_EQ(arena.stats().resident_free_bytes, static_cast<int64_t>(2 * kMiB));
  EXPECT_EQ(arena.stats().mapped_bytes, static_cast<int64_t>(8 * kMiB));
}

TEST(PageArenaTest, LeftoversUnderOneMiBStayWithTheBlock) {
  PageArena arena;
  void* p = arena.Allocate(4 * kMiB, kNoBound);
  arena.Free(p);
  void* q = arena.Allocate(3 * kMiB + kMiB / 2, kNoBound);
  EXPECT_EQ(arena.BlockSize(q), 4 * kMiB);
  EXPECT_EQ(arena.stats().live_bytes, static_cast<int64_t>(4 * kMiB));
  EXPECT_EQ(arena.stats().resident_free_bytes, 0);
}

TEST(PageArenaTest, FreedNeighboursMergeIntoOneRange) {
  PageArena arena;
  void* whole = arena.Allocate(6 * kMiB, kNoBound);
  arena.Free(whole);
  void* a = arena.Allocate(2 * kMiB, kNoBound);
  void* b = arena.Allocate(2 * kMiB, kNoBound);
  void* c = arena.Allocate(2 * kMiB, kNoBound);
  arena.Free(a);
  arena.Free(c);
  arena.Free(b);  // merges with both sides
  EXPECT_EQ(arena.Allocate(6 * kMiB, kNoBound), whole);
  EXPECT_EQ(arena.stats().misses, 1);
}

TEST(PageArenaTest, TheFootprintBoundReleasesCachedPagesBeforeMappingMore) {
  PageArena arena;
  void* a = arena.Allocate(4 * kMiB, kNoBound);
  void* b = arena.Allocate(4 * kMiB, kNoBound);  // another segment
  arena.Free(a);
  // 4 MiB live + 4 MiB cached: a 6 MiB block fits in no cached range, and
  // with a bound of 10 MiB the cached pages go back before fresh ones come.
  void* c = arena.Allocate(6 * kMiB, 10 * kMiB);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(arena.stats().resident_free_bytes, 0);
  EXPECT_EQ(arena.stats().live_bytes, static_cast<int64_t>(10 * kMiB));
  EXPECT_EQ(arena.stats().mapped_bytes, static_cast<int64_t>(10 * kMiB));  // a's segment unmapped
  arena.Free(b);
  arena.Free(c);
}

TEST(PageArenaTest, ReleasedRangesAreReusedAndReadAsZero) {
  PageArena arena;
  void* a = arena.Allocate(2 * kMiB, kNoBound);
  void* whole = arena.Allocate(4 * kMiB, kNoBound);
  std::memset(whole, 7, 4 * kMiB);
  arena.Free(whole);
  void* part = arena.Allocate(2 * kMiB, kNoBound);  // keeps the segment mapped
  arena.TrimResidentFree(0);  // the other half is released, still mapped
  EXPECT_EQ(arena.stats().resident_free_bytes, 0);
  EXPECT_EQ(arena.stats().mapped_bytes, static_cast<int64_t>(6 * kMiB));
  const int64_t misses = arena.stats().misses;
  auto* again = static_cast<unsigned char*>(arena.Allocate(2 * kMiB, kNoBound));
  EXPECT_EQ(again, static_cast<unsigned char*>(whole) + 2 * kMiB);
  EXPECT_EQ(arena.stats().misses, misses + 1);  // fresh pages
  EXPECT_EQ(again[0], 0);
  EXPECT_EQ(again[2 * kMiB - 1], 0);
  arena.Free(a);
  arena.Free(part);
  arena.Free(again);
  arena.TrimResidentFree(0);
  EXPECT_EQ(arena.stats().mapped_bytes, 0);  // every segment free and released: unmapped
}

TEST(PageArenaTest, RejectsPointersItDidNotHandOut) {
  PageArena arena;
  int local = 0;
  EXPECT_FALSE(arena.Free(&local));
  void* p = arena.Allocate(kMiB, kNoBound);
  EXPECT_TRUE(arena.Free(p));
  EXPECT_FALSE(arena.Free(p));  // already free
}

}  // namespace
}  // namespace dreamshot::core

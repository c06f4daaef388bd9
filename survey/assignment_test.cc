#include "survey/assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

namespace dreamshot::survey {
namespace {

// `per_type` pairs of each listed type, ids from `first_id` up.
std::vector<PoolPair> Pool(const std::vector<std::pair<std::string, int>>& per_type, int64_t first_id = 1) {
  std::vector<PoolPair> pool;
  int64_t id = first_id;
  for (const auto& [type, n] : per_type) {
    for (int i = 0; i < n; ++i) pool.push_back({id++, type});
  }
  return pool;
}

std::vector<PoolPair> ThreeTypes(int each) { return Pool({{"close", each}, {"medium", each}, {"long", each}}); }

std::map<std::string, int> PerType(const std::vector<PoolPair>& pool, const std::vector<AssignedItem>& items) {
  std::map<int64_t, std::string> type_of;
  for (const auto& p : pool) type_of[p.id] = p.shot_type;
  std::map<std::string, int> n;
  for (const auto& item : items) {
    if (!item.attention_check) ++n[type_of.at(item.pair_id)];
  }
  return n;
}

std::vector<AssignedItem> MustAssign(const std::vector<PoolPair>& pool, const std::vector<PoolPair>& attention,
                                     const std::map<int64_t, int64_t>& counts, int64_t participant,
                                     const AssignmentOptions& options) {
  auto items = AssignPairs(pool, attention, counts, participant, options);
  EXPECT_TRUE(items.ok()) << items.status();
  return items.ok() ? *items : std::vector<AssignedItem>{};
}

void ExpectDistinct(const std::vector<AssignedItem>& items) {
  std::set<int64_t> ids;
  for (const auto& item : items) EXPECT_TRUE(ids.insert(item.pair_id).second) << "pair " << item.pair_id << " twice";
}

TEST(AssignmentTest, ThirtySixOverThreeTypesIsTwelveEach) {
  const auto pool = ThreeTypes(30);
  for (int64_t participant : {0, 1, 2, 7}) {
    const auto items = MustAssign(pool, {}, {}, participant, {});
    ASSERT_EQ(items.size(), 36u);
    ExpectDistinct(items);
    EXPECT_EQ(PerType(pool, items), (std::map<std::string, int>{{"close", 12}, {"long", 12}, {"medium", 12}}))
        << "participant " << participant;
  }
}

TEST(AssignmentTest, ThirtyFiveRotatesTheShortType) {
  const auto pool = ThreeTypes(30);
  AssignmentOptions options;
  options.pairs_per_participant = 35;
  std::map<std::string, int> short_count;  // how often each type got 11
  for (int64_t participant = 0; participant < 6; ++participant) {
    const auto per_type = PerType(pool, MustAssign(pool, {}, {}, participant, options));
    int total = 0;
    for (const auto& [type, n] : per_type) {
      total += n;
      EXPECT_TRUE(n == 11 || n == 12) << type << ": " << n;
      if (n == 11) ++short_count[type];
    }
    EXPECT_EQ(total, 35);
  }
  // Types are in name order (close, long, medium); over 6 participants each
  // is the short one exactly twice.
  EXPECT_EQ(short_count, (std::map<std::string, int>{{"close", 2}, {"long", 2}, {"medium", 2}}));
}

TEST(AssignmentTest, SmallTypeGivesAllAndOthersMakeUpTheRest) {
  const auto pool = Pool({{"close", 5}, {"medium", 30}, {"long", 30}});
  std::map<int, int> medium_sizes;
  for (int64_t participant = 0; participant < 4; ++participant) {
    const auto items = MustAssign(pool, {}, {}, participant, {});
    ASSERT_EQ(items.size(), 36u);
    ExpectDistinct(items);
    const auto per_type = PerType(pool, items);
    EXPECT_EQ(per_type.at("close"), 5);
    // 31 left over two types: 16 + 15, the 16 alternating.
    EXPECT_EQ(per_type.at("medium") + per_type.at("long"), 31);
    EXPECT_LE(std::abs(per_type.at("medium") - per_type.at("long")), 1);
    ++medium_sizes[per_type.at("medium")];
  }
  EXPECT_EQ(medium_sizes, (std::map<int, int>{{15, 2}, {16, 2}}));
}

TEST(AssignmentTest, UnknownShotTypeIsAGroupOfItsOwn) {
  const auto pool = Pool({{"close", 30}, {"", 30}});
  const auto per_type = PerType(pool, MustAssign(pool, {}, {}, 0, {}));
  EXPECT_EQ(per_type, (std::map<std::string, int>{{"", 18}, {"close", 18}}));
}

TEST(AssignmentTest, PoolSmallerThanRequestIsAssignedWhole) {
  const auto pool = Pool({{"close", 4}, {"medium", 2}, {"long", 3}});
  const auto items = MustAssign(pool, {}, {}, 3, {});
  ASSERT_EQ(items.size(), 9u);
  std::set<int64_t> ids;
  for (const auto& item : items) ids.insert(item.pair_id);
  EXPECT_EQ(ids, (std::set<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(AssignmentTest, DeterministicPerParticipantAndIndependentOfPoolOrder) {
  const auto pool = ThreeTypes(30);
  AssignmentOptions options;
  options.seed = 42;
  const std::map<int64_t, int64_t> counts = {{1, 3}, {2, 1}, {40, 2}};
  const auto a = MustAssign(pool, {}, counts, 5, options);
  const auto b = MustAssign(pool, {}, counts, 5, options);
  auto reversed = pool;
  std::reverse(reversed.begin(), reversed.end());
  const auto c = MustAssign(reversed, {}, counts, 5, options);
  auto same = [](const std::vector<AssignedItem>& x, const std::vector<AssignedItem>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].pair_id != y[i].pair_id || x[i].swapped != y[i].swapped) return false;
    }
    return true;
  };
  EXPECT_TRUE(same(a, b));
  EXPECT_TRUE(same(a, c)) << "the pool's listing order changed the assignment";
  EXPECT_FALSE(same(a, MustAssign(pool, {}, counts, 6, options))) << "another participant got the same assignment";
  options.seed = 43;
  EXPECT_FALSE(same(a, MustAssign(pool, {}, counts, 5, options))) << "another seed gave the same assignment";
}

TEST(AssignmentTest, LeastShownPairsComeFirst) {
  const auto pool = ThreeTypes(30);  // close 1-30, medium 31-60, long 61-90
  std::map<int64_t, int64_t> counts;
  for (int64_t id = 1; id <= 90; ++id) counts[id] = 5;
  const std::set<int64_t> fresh = {3, 7, 11, 33, 64, 65, 66};
  for (int64_t id : fresh) counts[id] = 4;
  counts.erase(90);  // missing counts as 0
  std::set<int64_t> ids;
  for (const auto& item : MustAssign(pool, {}, counts, 0, {})) ids.insert(item.pair_id);
  for (int64_t id : fresh) EXPECT_TRUE(ids.count(id)) << "least-shown pair " << id << " left out";
  EXPECT_TRUE(ids.count(90)) << "never-shown pair 90 left out";
}

TEST(AssignmentTest, CoverageStaysEvenOverTwoHundredArrivals) {
  const auto pool = ThreeTypes(30);
  AssignmentOptions options;
  options.seed = 2024;
  std::map<int64_t, int64_t> counts;
  for (int64_t participant = 0; participant < 200; ++participant) {
    for (const auto& item : MustAssign(pool, {}, counts, participant, options)) ++counts[item.pair_id];
    // Even at every step, not just at the end.
    int64_t lo = INT64_MAX, hi = 0;
    for (const auto& p : pool) {
      lo = std::min(lo, counts[p.id]);
      hi = std::max(hi, counts[p.id]);
    }
    ASSERT_LE(hi - lo, 1) << "after participant " << participant;
  }
  // 200 * 36 / 90 = 80 exactly.
  for (const auto& p : pool) EXPECT_EQ(counts[p.id], 80) << "pair " << p.id;
}

// With 35 pairs (odd) the extra side is random, so the overall share is not
// forced to 1/2. Over 200 participants swapped = 200*17 + Binomial(200, 1/2):
// sd ~7 of 7000 shows (0.1%); ±1% (70 shows) is ~10 sd, so only a real bias
// (e.g. the extra always going one way: 3400 or 3600) fails.
// Per pair (~78 shows each) the share is roughly Binomial(78, 1/2)/78,
// sd ~5.7%; ±25% is ~4.4 sd, and any pair always shown the same way fails.
TEST(AssignmentTest, SidesBalancedPerParticipantAndOverall) {
  const auto pool = ThreeTypes(30);
  AssignmentOptions options;
  options.pairs_per_participant = 35;
  options.seed = 99;
  std::map<int64_t, int64_t> counts, swapped_per_pair;
  int64_t swapped = 0, shown = 0, eighteen = 0;
  for (int64_t participant = 0; participant < 200; ++participant) {
    int mine = 0, total = 0;
    for (const auto& item : MustAssign(pool, {}, counts, participant, options)) {
      ++counts[item.pair_id];
      ++total;
      if (item.swapped) {
        ++mine;
        ++swapped_per_pair[item.pair_id];
      }
    }
    ASSERT_EQ(total, 35);
    ASSERT_LE(std::abs(mine - (total - mine)), 1) << "participant " << participant;
    swapped += mine;
    shown += total;
    eighteen += mine == 18;
  }
  EXPECT_NEAR(static_cast<double>(swapped) / shown, 0.5, 0.01);
  // The odd extra is random: about half the participants see 18 swapped.
  // Binomial(200, 1/2) has sd ~7; 70..130 is ~4 sd either side.
  EXPECT_GE(eighteen, 70);
  EXPECT_LE(eighteen, 130);
  for (const auto& p : pool) {
    EXPECT_NEAR(static_cast<double>(swapped_per_pair[p.id]) / counts[p.id], 0.5, 0.25) << "pair " << p.id;
  }
}

TEST(AssignmentTest, AttentionChecksPresentNeverFirstAndFlagged) {
  const auto pool = ThreeTypes(10);
  const auto attention = Pool({{"", 6}}, 1000);
  AssignmentOptions options;
  options.pairs_per_participant = 9;
  options.attention_checks = 3;
  std::map<int64_t, int64_t> counts;
  std::map<size_t, int> check_positions;
  for (int64_t participant = 0; participant < 300; ++participant) {
    const auto items = MustAssign(pool, attention, counts, participant, options);
    ASSERT_EQ(items.size(), 12u);
    ExpectDistinct(items);
    ASSERT_FALSE(items.front().attention_check) << "participant " << participant;
    int checks = 0, swapped = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const bool is_attention = items[i].pair_id >= 1000;
      EXPECT_EQ(items[i].attention_check, is_attention) << "pair " << items[i].pair_id;
      if (is_attention) {
        ++checks;
        ++check_positions[i];
      }
      swapped += items[i].swapped;
      ++counts[items[i].pair_id];
    }
    EXPECT_EQ(checks, 3);
    // 9 real + 3 checks: both odd, so all 12 items split exactly 6/6.
    EXPECT_EQ(swapped, 6) << "participant " << participant;
  }
  // Checks land everywhere after the first slot, not bunched at the end.
  for (size_t pos = 1; pos < 12; ++pos) EXPECT_GT(check_positions[pos], 30) << "position " << pos;
  // Least-shown first keeps the attention pairs evenly used too: 900 / 6.
  for (const auto& p : attention) EXPECT_EQ(counts[p.id], 150) << "attention pair " << p.id;
}

TEST(AssignmentTest, MoreChecksThanAttentionPairsUsesEachOnce) {
  const auto pool = ThreeTypes(10);
  AssignmentOptions options;
  options.attention_checks = 5;
  const auto items = MustAssign(pool, Pool({{"", 2}}, 1000), {}, 0, options);
  ExpectDistinct(items);
  EXPECT_EQ(std::count_if(items.begin(), items.end(), [](const AssignedItem& i) { return i.attention_check; }), 2);
}

TEST(AssignmentTest, Errors) {
  const auto pool = ThreeTypes(3);
  AssignmentOptions options;
  EXPECT_EQ(AssignPairs({}, {}, {}, 0, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.pairs_per_participant = 0;
  EXPECT_EQ(AssignPairs(pool, {}, {}, 0, options).status().code(), absl::StatusCode::kInvalidArgument);
  options = {};
  options.attention_checks = -1;
  EXPECT_EQ(AssignPairs(pool, {}, {}, 0, options).status().code(), absl::StatusCode::kInvalidArgument);
  options.attention_checks = 1;
  EXPECT_EQ(AssignPairs(pool, {}, {}, 0, options).status().code(), absl::StatusCode::kInvalidArgument);
  auto duplicated = pool;
  duplicated.push_back({2, "long"});
  const auto dup = AssignPairs(duplicated, {}, {}, 0, AssignmentOptions{});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("pair id 2"), std::string::npos) << dup.status();
  EXPECT_EQ(AssignPairs(pool, {{5, ""}}, {}, 0, options).status().code(), absl::StatusCode::kInvalidArgument)
      << "an attention pair sharing a real pair's id";
  EXPECT_TRUE(AssignPairs(pool, {{100, ""}}, {}, 0, options).ok());
}

std::string Describe(const std::vector<AssignedItem>& items) {
  std::ostringstream out;
  for (const auto& item : items) {
    out << item.pair_id << (item.swapped ? "s" : "") << (item.attention_check ? "!" : "") << " ";
  }
  return out.str();
}

// Pinned so that any change to the RNG, its seeding or the order of draws
// shows up: existing surveys would otherwise re-assign differently.
TEST(AssignmentTest, PinnedOutput) {
  const auto pool = Pool({{"close", 4}, {"medium", 4}, {"long", 4}});
  AssignmentOptions options;
  options.pairs_per_participant = 7;
  options.attention_checks = 2;
  options.seed = 12345;
  const auto items = MustAssign(pool, Pool({{"", 3}}, 100), {{1, 1}, {5, 2}}, 3, options);
  // Close 1-4 gets the rotated extra (3 pairs), long 9-12 and medium 5-8 two
  // each; 1 and 5 have been shown before, so they are left out.
  EXPECT_EQ(Describe(items), "2s 9s 11 3s 100s! 8 4s 6 101! ");
}

}  // namespace
}  // namespace dreamshot::survey

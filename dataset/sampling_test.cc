#include "dataset/sampling.h"

#include <gtest/gtest.h>

#include <set>

namespace dreamshot::dataset {
namespace {

std::vector<PoolEntry> Pool(int per_scale) {
  std::vector<PoolEntry> pool;
  int64_t id = 1;
  for (ShotScale s : {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong, ShotScale::kUnknown}) {
    for (int i = 0; i < per_scale; ++i) pool.push_back({id++, s, i % 10 == 0 ? 0.2 : 0.9});
  }
  return pool;
}

TEST(SamplingTest, SplitsAreStratifiedDisjointAndSeeded) {
  SplitOptions options;
  options.train_per_scale = 5;
  options.eval_total = 30;
  options.seed = 7;
  auto splits = DrawSplits(Pool(100), options);
  ASSERT_TRUE(splits.ok()) << splits.status();
  ASSERT_EQ(splits->size(), 4u);
  std::set<int64_t> seen;
  for (const auto& [name, ids] : *splits) {
    for (int64_t id : ids) EXPECT_TRUE(seen.insert(id).second) << "item " << id << " drawn twice";
  }
  EXPECT_EQ(splits->at("train/close").size(), 5u);
  const auto& eval = splits->at("eval");
  ASSERT_EQ(eval.size(), 30u);
  // Interleaved close (ids 1–100), medium (101–200), long (201–300); never unknown.
  for (size_t i = 0; i < eval.size(); ++i) {
    EXPECT_EQ((eval[i] - 1) / 100, static_cast<int64_t>(i % 3)) << i;
  }
  // Same seed, same draw; the pool's order does not matter.
  std::vector<PoolEntry> reversed = Pool(100);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(DrawSplits(reversed, options).value(), *splits);
  options.seed = 8;
  EXPECT_NE(DrawSplits(Pool(100), options).value(), *splits);
}

TEST(SamplingTest, TheShuffleIsFixedByTheSeedOnEveryMachine) {
  std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6, 7, 8};
  SeededShuffle(ids, 42);
  // Pinned: std::mt19937_64's output is fixed by the standard and the
  // bounded draw is our own, so this holds for every compiler and library.
  EXPECT_EQ(ids, (std::vector<int64_t>{8, 1, 6, 2, 3, 5, 4, 7}));
}

TEST(SamplingTest, TooFewItemsOrUnevenEvalAreNamed) {
  SplitOptions options;
  options.train_per_scale = 5;
  options.eval_total = 30;
  options.min_confidence = 0.5;  // drops one in ten
  auto short_pool = DrawSplits(Pool(15), options);
  EXPECT_EQ(short_pool.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(short_pool.status().message().find("13 close shots with confidence ≥ 0.5; the splits need 15"),
            std::string::npos)
      << short_pool.status();
  options.eval_total = 31;
  EXPECT_EQ(DrawSplits(Pool(100), options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset

#include "experiments/downsample.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace dreamshot::experiments {
namespace {

bool SamePoint(const SeriesPoint& a, const SeriesPoint& b) {
  // Bitwise-equal values (NaN-free inputs here), same step and wall time.
  return a.step == b.step && a.value == b.value && a.wall_ms == b.wall_ms;
}

// True if `sub` is a subsequence of `seq` (same points, same order).
bool IsSubsequence(const std::vector<SeriesPoint>& sub, const std::vector<SeriesPoint>& seq) {
  size_t j = 0;
  for (const SeriesPoint& p : seq) {
    if (j < sub.size() && SamePoint(sub[j], p)) ++j;
  }
  return j == sub.size();
}

std::vector<SeriesPoint> NoisySeries(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<SeriesPoint> points;
  points.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t step = static_cast<int64_t>(i) * 10;
    points.push_back({step, 2.0 * std::exp(-static_cast<double>(i) / 1000.0) + noise(rng),
                      1'700'000'000'000 + step * 37});
  }
  return points;
}

TEST(DownsampleLttbTest, SmallInputUnchanged) {
  const std::vector<SeriesPoint> points = NoisySeries(50, 1);
  for (size_t max_points : {size_t{0}, size_t{50}, size_t{51}, size_t{1000}}) {
    const std::vector<SeriesPoint> out = DownsampleLttb(points, max_points);
    ASSERT_EQ(out.size(), points.size()) << "max_points=" << max_points;
    for (size_t i = 0; i < out.size(); ++i) EXPECT_TRUE(SamePoint(out[i], points[i]));
  }
  EXPECT_TRUE(DownsampleLttb({}, 10).empty());
  EXPECT_TRUE(DownsampleLttb({}, 0).empty());
}

TEST(DownsampleLttbTest, TinyLimits) {
  const std::vector<SeriesPoint> points = NoisySeries(100, 2);
  std::vector<SeriesPoint> out = DownsampleLttb(points, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(SamePoint(out[0], points.back()));
  out = DownsampleLttb(points, 2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(SamePoint(out[0], points.front()));
  EXPECT_TRUE(SamePoint(out[1], points.back()));
  out = DownsampleLttb(points, 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(IsSubsequence(out, points));
}

TEST(DownsampleLttbTest, ExactSizeFirstLastAndSubsequence) {
  for (size_t n : {4u, 10u, 101u, 1000u, 12345u}) {
    const std::vector<SeriesPoint> points = NoisySeries(n, static_cast<uint32_t>(n));
    for (size_t m : {3u, 4u, 7u, 100u, 500u}) {
      if (m >= n) continue;
      SCOPED_TRACE(testing::Message() << "n=" << n << " max_points=" << m);
      const std::vector<SeriesPoint> out = DownsampleLttb(points, m);
      ASSERT_EQ(out.size(), m);
      EXPECT_TRUE(SamePoint(out.front(), points.front()));
      EXPECT_TRUE(SamePoint(out.back(), points.back()));
      EXPECT_TRUE(IsSubsequence(out, points));
      for (size_t i = 1; i < out.size(); ++i) EXPECT_LT(out[i - 1].step, out[i].step);
    }
  }
}

TEST(DownsampleLttbTest, SpikeIsKept) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> noise(-0.01, 0.01);
  std::vector<SeriesPoint> points;
  for (int64_t i = 0; i < 10000; ++i) points.push_back({i, 1.0 + noise(rng), i});
  points[6543].value = 50.0;  // a loss spike
  points[2001].value = -20.0;  // and a dip
  const std::vector<SeriesPoint> out = DownsampleLttb(points, 100);
  ASSERT_EQ(out.size(), 100u);
  bool spike = false;
  bool dip = false;
  for (const SeriesPoint& p : out) {
    spike |= SamePoint(p, points[6543]);
    dip |= SamePoint(p, points[2001]);
  }
  EXPECT_TRUE(spike);
  EXPECT_TRUE(dip);
}

TEST(DownsampleLttbTest, LinearSeriesStaysLinearAndSpread) {
  std::vector<SeriesPoint> points;
  for (int64_t i = 0; i < 100000; ++i) {
    points.push_back({1'000'000'000'000 + 3 * i, 2.0 * static_cast<double>(i) + 1.0, i});
  }
  const size_t m = 500;
  const std::vector<SeriesPoint> out = DownsampleLttb(points, m);
  ASSERT_EQ(out.size(), m);
  EXPECT_TRUE(IsSubsequence(out, points));
  // Every kept point is on the line, and no gap exceeds two buckets.
  const double bucket = static_cast<double>(points.size() - 2) / static_cast<double>(m - 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t index = out[i].wall_ms;
    EXPECT_EQ(out[i].value, 2.0 * static_cast<double>(index) + 1.0);
    EXPECT_EQ(out[i].step, 1'000'000'000'000 + 3 * index);
    if (i > 0) {
      EXPECT_LE(static_cast<double>(index - out[i - 1].wall_ms), 2 * bucket + 1);
    }
  }
}

TEST(DownsampleLttbTest, OneMillionPoints) {
  // Runs in a few milliseconds (linear time); no timing assertion.
  const std::vector<SeriesPoint> points = NoisySeries(1'000'000, 4);
  const std::vector<SeriesPoint> out = DownsampleLttb(points, 500);
  ASSERT_EQ(out.size(), 500u);
  EXPECT_TRUE(SamePoint(out.front(), points.front()));
  EXPECT_TRUE(SamePoint(out.back(), points.back()));
  EXPECT_TRUE(IsSubsequence(out, points));
}

}  // namespace
}  // namespace dreamshot::experiments

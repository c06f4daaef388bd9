#include "experiments/downsample.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dreamshot::experiments {
namespace {

// Start index of interior bucket `i` (0 <= i <= buckets): the interior
// indices [1, n - 1) are split as [Start(i), Start(i + 1)) with
// Start(i) = 1 + floor(i (n - 2) / buckets). Integer arithmetic makes the
// partition exact; with n - 2 = q buckets + r it is computed as
// i q + floor(i r / buckets), where i r < buckets^2 cannot overflow for any
// realistic point count. Every bucket is non-empty because n - 2 > buckets.
size_t BucketStart(size_t i, size_t n, size_t buckets) {
  const size_t q = (n - 2) / buckets;
  const size_t r = (n - 2) % buckets;
  return 1 + i * q + (i * r) / buckets;
}

}  // namespace

std::vector<SeriesPoint> DownsampleLttb(const std::vector<SeriesPoint>& points,
                                        size_t max_points) {
  const size_t n = points.size();
  if (max_points == 0 || n <= max_points) return points;
  if (max_points == 1) return {points.back()};
  if (max_points == 2) return {points.front(), points.back()};

  const size_t buckets = max_points - 2;
  std::vector<SeriesPoint> out;
  out.reserve(max_points);
  out.push_back(points.front());
  size_t anchor = 0;  // index of the point kept from the previous bucket
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = BucketStart(b, n, buckets);
    const size_t end = BucketStart(b + 1, n, buckets);
    // The next bucket's average; for the last bucket, the last point.
    const size_t next_begin = end;
    const size_t next_end = b + 1 < buckets ? BucketStart(b + 2, n, buckets) : n;

    // Coordinates are taken relative to the anchor: step differences are
    // exact integers, so large step numbers lose no precision.
    const SeriesPoint& a = points[anchor];
    double sum_dx = 0.0;
    double sum_dy = 0.0;
    for (size_t j = next_begin; j < next_end; ++j) {
      sum_dx += static_cast<double>(points[j].step - a.step);
      sum_dy += points[j].value - a.value;
    }
    const double count = static_cast<double>(next_end - next_begin);
    const double cx = sum_dx / count;
    const double cy = sum_dy / count;

    size_t best = begin;
    double best_area = -1.0;
    for (size_t j = begin; j < end; ++j) {
      const double bx = static_cast<double>(points[j].step - a.step);
      const double by = points[j].value - a.value;
      // Twice the triangle area (anchor, candidate, next average).
      const double area = std::fabs(bx * cy - cx * by);
      if (area > best_area) {
        best_area = area;
        best = j;
      }
    }
    out.push_back(points[best]);
    anchor = best;
  }
  out.push_back(points.back());
  return out;
}

}  // namespace dreamshot::experiments

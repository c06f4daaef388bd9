// Downsampling of metric histories for plotting (e.g. 100k training-loss
// points shown as 500) with Largest-Triangle-Three-Buckets.
#ifndef DREAMSHOT_EXPERIMENTS_DOWNSAMPLE_H_
#define DREAMSHOT_EXPERIMENTS_DOWNSAMPLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dreamshot::experiments {

// One recorded value of a metric.
struct SeriesPoint {
  int64_t step = 0;
  double value = 0.0;
  int64_t wall_ms = 0;  // wall-clock time of the record, ms since the epoch
};

// Reduces `points` to at most `max_points` points that preserve the visual
// shape of the series, using Largest-Triangle-Three-Buckets (S. Steinarsson,
// "Downsampling Time Series for Visual Representation", 2013) on the
// (step, value) plane: the first and last points are always kept; the
// interior points are split into max_points - 2 buckets of (nearly) equal
// count, and from each bucket the point forming the largest triangle with the
// point kept from the previous bucket and the average of the next bucket is
// kept.
//
// `points` are assumed sorted by step (not checked; unsorted input still
// yields a valid subsequence, just a less faithful one). The result is always
// a subsequence of the input, in input order, with the original points
// (never averages). O(points.size()) time.
//
//   max_points == 0 or points.size() <= max_points: the input unchanged.
//   max_points == 1: the last point.
//   max_points == 2: the first and last points.
//   otherwise: exactly max_points points.
//
// Values are not checked for NaN: a triangle with a NaN area never wins, so
// a bucket whose candidates all have NaN areas contributes its first point.
std::vector<SeriesPoint> DownsampleLttb(const std::vector<SeriesPoint>& points,
                                        size_t max_points);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_DOWNSAMPLE_H_

#include "dataset/shots/frame_metrics.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace dreamshot::dataset::shots {
namespace {

// How many rows (or columns) from `begin`, stepping by `step`, look like a
// bar: dark on average and with no bright pixel (a dark scene's edge has
// some), at most `limit`.
int BarWidth(const cv::Mat& means, const cv::Mat& maxima, int begin, int step, int limit, double level) {
  int i = 0;
  while (i < limit && means.at<float>(begin + step * i) < level && maxima.at<uchar>(begin + step * i) < 3 * level) ++i;
  return i;
}

uchar Median(const cv::Mat& grey) {
  int hist[256] = {0};
  for (int y = 0; y < grey.rows; ++y) {
    const uchar* row = grey.ptr<uchar>(y);
    for (int x = 0; x < grey.cols; ++x) ++hist[row[x]];
  }
  const int half = static_cast<int>(grey.total() / 2);
  int seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += hist[v];
    if (seen > half) return static_cast<uchar>(v);
  }
  return 255;
}

// PySceneDetect's edge map: Canny with thresholds at (1 -/+ 1/3) of the
// median, dilated by a kernel that grows with the frame (odd, 5 at 256x144).
cv::Mat Edges(const cv::Mat& value) {
  const double median = Median(value);
  cv::Mat edges;
  cv::Canny(value, edges, std::max(0.0, median * 2 / 3), std::min(255.0, median * 4 / 3));
  int k = 4 + static_cast<int>(std::lround(std::sqrt(static_cast<double>(value.total())) / 192));
  if (k % 2 == 0) ++k;
  cv::dilate(edges, edges, cv::Mat::ones(k, k, CV_8U));
  return edges;
}

}  // namespace

cv::Rect PictureArea(const cv::Mat& grey, double bar_luma) {
  cv::Mat row_means, col_means, row_max, col_max;
  cv::reduce(grey, row_means, 1, cv::REDUCE_AVG, CV_32F);  // [rows, 1]
  cv::reduce(grey, col_means, 0, cv::REDUCE_AVG, CV_32F);  // [1, cols]
  cv::reduce(grey, row_max, 1, cv::REDUCE_MAX);
  cv::reduce(grey, col_max, 0, cv::REDUCE_MAX);
  const int rows = grey.rows, cols = grey.cols;
  const int top = BarWidth(row_means, row_max, 0, 1, rows / 4, bar_luma);
  const int bottom = BarWidth(row_means, row_max, rows - 1, -1, rows / 4, bar_luma);
  const int left = BarWidth(col_means, col_max, 0, 1, cols / 4, bar_luma);
  const int right = BarWidth(col_means, col_max, cols - 1, -1, cols / 4, bar_luma);
  return cv::Rect(left, top, cols - left - right, rows - top - bottom);
}

FrameScorer::FrameScorer(const ScoreOptions& options) : options_(options) {}

double FrameScorer::Compare(const Past& a, const Past& b, FrameMetrics* m) const {
  // Over both frames' pictures: a cut from a letterboxed shot to a full
  // frame one still counts the area the bars hid.
  const cv::Rect area = a.picture | b.picture;
  cv::Mat diff;
  cv::absdiff(a.hsv(area), b.hsv(area), diff);
  const cv::Scalar d = cv::mean(diff);
  double edges = 0;
  if (!a.edges.empty() && !b.edges.empty()) {
    cv::absdiff(a.edges(area), b.edges(area), diff);
    edges = cv::mean(diff)[0];
  }
  if (m != nullptr) {
    m->delta_hue = d[0];
    m->delta_sat = d[1];
    m->delta_value = d[2];
    m->delta_edges = edges;
  }
  const ScoreOptions& o = options_;
  const double total =
      std::abs(o.weight_hue) + std::abs(o.weight_sat) + std::abs(o.weight_value) + std::abs(o.weight_edges);
  if (total <= 0) return 0;
  return (o.weight_hue * d[0] + o.weight_sat * d[1] + o.weight_value * d[2] + o.weight_edges * edges) / total;
}

FrameMetrics FrameScorer::Score(int64_t frame, double time_s, const cv::Mat& bgr) {
  FrameMetrics m;
  m.frame = frame;
  m.time_s = time_s;
  Past now;
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, now.hsv, cv::COLOR_BGR2HSV);
  now.picture = options_.ignore_bars ? PictureArea(grey, options_.bar_luma) : cv::Rect(0, 0, grey.cols, grey.rows);
  m.picture = Box{now.picture.x, now.picture.y, now.picture.width, now.picture.height};
  m.luma = cv::mean(grey(now.picture))[0];
  if (options_.weight_edges != 0) {
    cv::Mat value;
    cv::extractChannel(now.hsv, value, 2);
    now.edges = Edges(value);
  }
  if (!past_.empty() && past_.front().hsv.size() != now.hsv.size()) past_.clear();
  for (size_t k = 0; k < past_.size(); ++k) {
    if (k == 0) {
      m.content = Compare(now, past_[0], &m);
      m.scored = true;
    } else {
      m.content_to_earlier[k - 1] = Compare(now, past_[k], nullptr);
    }
  }
  past_.push_front(std::move(now));
  if (past_.size() > kEarlierFrames + 1) past_.pop_back();
  return m;
}

}  // namespace dreamshot::dataset::shots

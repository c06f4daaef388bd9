#include "evaluator/metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"

namespace dreamshot::evaluator {
namespace {

constexpr struct {
  Metric metric;
  const char* name;
} kMetricNames[] = {{Metric::kClipT, "clip_t"}, {Metric::kClipI, "clip_i"}, {Metric::kDino, "dino"}};

constexpr struct {
  ClipScoreScale scale;
  const char* name;
} kScaleNames[] = {{ClipScoreScale::kCosine, "cosine"}, {ClipScoreScale::kTorchmetrics, "torchmetrics"}};

std::string RowName(int64_t row, absl::Span<const std::string> item_names) {
  if (row < static_cast<int64_t>(item_names.size())) return absl::StrCat("item '", item_names[row], "'");
  return absl::StrCat("row ", row);
}

}  // namespace

const char* MetricName(Metric metric) {
  for (const auto& m : kMetricNames) {
    if (m.metric == metric) return m.name;
  }
  return "?";
}

std::optional<Metric> ParseMetric(const std::string& name) {
  for (const auto& m : kMetricNames) {
    if (name == m.name) return m.metric;
  }
  return std::nullopt;
}

const char* ClipScoreScaleName(ClipScoreScale scale) {
  for (const auto& s : kScaleNames) {
    if (s.scale == scale) return s.name;
  }
  return "?";
}

std::optional<ClipScoreScale> ParseClipScoreScale(const std::string& name) {
  for (const auto& s : kScaleNames) {
    if (name == s.name) return s.scale;
  }
  return std::nullopt;
}

double ScaleClipScore(double cosine, ClipScoreScale scale) {
  return scale == ClipScoreScale::kTorchmetrics ? std::max(100.0 * cosine, 0.0) : cosine;
}

absl::StatusOr<std::vector<double>> RowCosines(const at::Tensor& a, const at::Tensor& b,
                                               absl::Span<const std::string> item_names) {
  if (!a.defined() || !b.defined() || a.dim() != 2 || b.dim() != 2 || a.sizes() != b.sizes()) {
    auto shape = [](const at::Tensor& t) {
      return t.defined() ? absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]") : std::string("undefined");
    };
    return absl::InvalidArgumentError(absl::StrCat("embeddings to compare must both be [N, D] of one shape, got ",
                                                   shape(a), " and ", shape(b)));
  }
  const at::Tensor x = a.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const at::Tensor y = b.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const int64_t n = x.size(0), d = x.size(1);
  const double* px = x.data_ptr<double>();
  const double* py = y.data_ptr<double>();
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    double dot = 0, xx = 0, yy = 0;
    for (int64_t k = 0; k < d; ++k) {
      const double u = px[i * d + k], v = py[i * d + k];
      dot += u * v, xx += u * u, yy += v * v;
    }
    if (!std::isfinite(dot) || !std::isfinite(xx) || !std::isfinite(yy)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the embedding of ", RowName(i, item_names), " holds a NaN or infinite value"));
    }
    if (xx == 0 || yy == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the embedding of ", RowName(i, item_names), " is all zeros: no direction to compare"));
    }
    out[i] = std::clamp(dot / std::sqrt(xx * yy), -1.0, 1.0);
  }
  return out;
}

absl::StatusOr<std::vector<GroupSummary>> SummarizeByGroup(absl::Span<const double> scores,
                                                           absl::Span<const std::string> groups,
                                                           double confidence) {
  if (scores.size() != groups.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(scores.size(), " scores but ", groups.size(), " group labels: give one label per score"));
  }
  if (scores.empty()) return absl::InvalidArgumentError("no scores to summarize");
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> by_group;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      return absl::InvalidArgumentError(absl::StrCat("score ", i, " (group '", groups[i], "') is not finite"));
    }
    if (groups[i] == kAllGroups) {
      return absl::InvalidArgumentError(
          absl::StrCat("score ", i, ": the group label '", kAllGroups, "' is reserved for the overall summary"));
    }
    auto [it, inserted] = by_group.try_emplace(groups[i]);
    if (inserted) order.push_back(groups[i]);
    it->second.push_back(scores[i]);
  }
  std::vector<GroupSummary> out;
  for (const std::string& group : order) {
    ASSIGN_OR_RETURN(core::Summary summary, core::Summarize(by_group[group], confidence));
    out.push_back({group, summary});
  }
  ASSIGN_OR_RETURN(core::Summary all, core::Summarize(scores, confidence));
  out.push_back({kAllGroups, all});
  return out;
}

}  // namespace dreamshot::evaluator

// The evaluation scores on embeddings (issue 18), as the DreamBooth paper and
// the thesis define them:
//   CLIP-T: cosine between a generated image's CLIP image embedding and its
//           prompt's CLIP text embedding (prompt fidelity);
//   CLIP-I: cosine between the CLIP image embeddings of a generated image and
//           its real counterpart;
//   DINO:   cosine between the DINO ViT-S/16 CLS embeddings of a generated
//           image and its real counterpart (the paper prefers it to CLIP-I:
//           it tells apart images of one class that CLIP maps together).
// Raw cosines, as ImagenHub's DreamBooth evaluation reports them;
// torchmetrics' CLIPScore reports max(100 · cosine, 0) instead, so the scale
// is a recorded choice. The encoders live in models/; this file only scores.
#ifndef DREAMSHOT_EVALUATOR_METRICS_H_
#define DREAMSHOT_EVALUATOR_METRICS_H_

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/statistics.h"

namespace dreamshot::evaluator {

enum class Metric { kClipT, kClipI, kDino };
const char* MetricName(Metric metric);  // "clip_t", "clip_i", "dino"
std::optional<Metric> ParseMetric(const std::string& name);

enum class ClipScoreScale {
  kCosine,        // the cosine itself, in [-1, 1]
  kTorchmetrics,  // max(100 · cosine, 0), torchmetrics' CLIPScore
};
const char* ClipScoreScaleName(ClipScoreScale scale);  // "cosine", "torchmetrics"
std::optional<ClipScoreScale> ParseClipScoreScale(const std::string& name);
double ScaleClipScore(double cosine, ClipScoreScale scale);

// Row-wise cosine similarity of two [N, D] embedding batches (any float
// dtype and device; computed in float64 on the CPU, so the result does not
// depend on how the embeddings were normalised). INVALID_ARGUMENT when the
// shapes differ or are not 2-D (naming both), or for a row that is all
// zeros or holds a NaN or infinity — an encoder that produced it is broken,
// and the message names the row by `item_names[row]` when given.
absl::StatusOr<std::vector<double>> RowCosines(const at::Tensor& a, const at::Tensor& b,
                                               absl::Span<const std::string> item_names = {});

// Summaries (mean, sd, Student-t interval) of `scores` per group (e.g. shot
// scale), the groups in order of first appearance, then "all" over every
// score. INVALID_ARGUMENT when the spans differ in length, are empty, a
// score is not finite (naming its index) or a label is "all". A group of one score has NaN
// spread, as core::Summarize gives.
struct GroupSummary {
  std::string group;
  core::Summary summary;
};
inline constexpr char kAllGroups[] = "all";
absl::StatusOr<std::vector<GroupSummary>> SummarizeByGroup(absl::Span<const double> scores,
                                                           absl::Span<const std::string> groups,
                                                           double confidence = 0.95);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_METRICS_H_

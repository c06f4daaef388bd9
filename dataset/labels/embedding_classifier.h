// A nearest-centroid classifier over fixed-length embeddings (CLIP, DINO),
// the hook for labelling shot scale from an image encoder once one exists:
// train on frames with trusted labels, apply to the rest.
//
// Model: each class is an isotropic Gaussian around its centroid with one
// shared variance σ² (pooled within-class variance per dimension), equal
// priors. The probability of class k is softmax_k(-‖x - μ_k‖² / (2 T σ²)),
// T = temperature (1: the fitted model; raise it on held-out data if the
// probabilities are too sharp, as they are in high dimensions).
// Deterministic: classes are ordered by label, sums run in a fixed order.
#ifndef DREAMSHOT_DATASET_LABELS_EMBEDDING_CLASSIFIER_H_
#define DREAMSHOT_DATASET_LABELS_EMBEDDING_CLASSIFIER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::dataset::labels {

struct LabelledEmbedding {
  std::string label;  // e.g. "close", "medium", "long"
  std::vector<float> embedding;
};

struct EmbeddingPrediction {
  std::string label;                            // the most probable class (first by label on a tie)
  double probability = 0;                       // its probability
  std::map<std::string, double> probabilities;  // every class
};

struct EmbeddingClassifierOptions {
  bool l2_normalize = true;  // compare directions (as CLIP's cosine similarity does)
  double temperature = 1.0;
};

class EmbeddingClassifier {
 public:
  // INVALID_ARGUMENT unless there are >= 2 classes, at least one with two
  // examples (to estimate the spread), and all embeddings share one
  // non-zero length with finite values; errors name the example's index.
  static absl::StatusOr<EmbeddingClassifier> Train(const std::vector<LabelledEmbedding>& examples,
                                                   const EmbeddingClassifierOptions& options = {});

  // INVALID_ARGUMENT when `embedding` has the wrong length or a non-finite value.
  absl::StatusOr<EmbeddingPrediction> Predict(const std::vector<float>& embedding) const;

  // JSON {"format": "dreamshot.nearest_centroid.v1", "dim", "l2_normalize",
  // "temperature", "variance", "classes": [{"label", "count", "centroid"}]},
  // written atomically. Load reports the file and the offending field.
  absl::Status Save(const std::string& path) const;
  static absl::StatusOr<EmbeddingClassifier> Load(const std::string& path);
  std::string ToJson() const;
  static absl::StatusOr<EmbeddingClassifier> FromJson(absl::string_view json, absl::string_view source);

  int dim() const { return dim_; }
  double variance() const { return variance_; }
  std::vector<std::string> labels() const;

 private:
  struct Class {
    std::string label;
    int64_t count = 0;
    std::vector<double> centroid;
  };
  EmbeddingClassifier() = default;
  std::vector<double> Prepare(const std::vector<float>& embedding) const;

  int dim_ = 0;
  EmbeddingClassifierOptions options_;
  double variance_ = 1;
  std::vector<Class> classes_;  // sorted by label
};

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_EMBEDDING_CLASSIFIER_H_

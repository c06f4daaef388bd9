// Counts of shot-scale labels for reports: how a pool or split divides into
// close / medium / long and the five fine scales, with the mean confidence,
// so a report never shows estimated labels without how sure they are.
#ifndef DREAMSHOT_DATASET_LABELS_LABEL_DISTRIBUTION_H_
#define DREAMSHOT_DATASET_LABELS_LABEL_DISTRIBUTION_H_

#include <array>
#include <cstdint>
#include <string>

#include "dataset/types.h"

namespace dreamshot::dataset::labels {

class LabelDistribution {
 public:
  void Add(const ScaleLabel& label);

  int64_t total() const { return total_; }
  int64_t count(ShotScale scale) const { return coarse_[Index(scale)]; }
  int64_t count(FineShotScale fine) const { return fine_[Index(fine)]; }
  // 100 × count / total; 0 when empty.
  double percent(ShotScale scale) const;
  double percent(FineShotScale fine) const;
  // Mean ScaleLabel::confidence of the labels with that scale; 0 when none.
  double mean_confidence(ShotScale scale) const;

  // One line per level, e.g.
  // "close 12 (30.0%, conf 0.81), medium 20 (50.0%, conf 0.66), long 8 (20.0%, conf 0.40), unknown 0 (0.0%)
  //  | ECS 2 (5.0%), CS 10 (25.0%), MS 20 (50.0%), FS 3 (7.5%), LS 5 (12.5%), unknown 0 (0.0%); n=40"
  std::string ToString() const;

 private:
  static size_t Index(ShotScale s) { return static_cast<size_t>(s); }
  static size_t Index(FineShotScale f) { return static_cast<size_t>(f); }

  int64_t total_ = 0;
  std::array<int64_t, 4> coarse_{};          // indexed by ShotScale
  std::array<double, 4> confidence_sum_{};
  std::array<int64_t, 6> fine_{};            // indexed by FineShotScale
};

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_LABEL_DISTRIBUTION_H_

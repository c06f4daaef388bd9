#include "dataset/labels/label_distribution.h"

#include "absl/strings/str_format.h"

namespace dreamshot::dataset::labels {

void LabelDistribution::Add(const ScaleLabel& label) {
  ++total_;
  ++coarse_[Index(label.scale)];
  confidence_sum_[Index(label.scale)] += label.confidence;
  ++fine_[Index(label.fine)];
}

double LabelDistribution::percent(ShotScale scale) const {
  return total_ == 0 ? 0 : 100.0 * count(scale) / total_;
}

double LabelDistribution::percent(FineShotScale fine) const {
  return total_ == 0 ? 0 : 100.0 * count(fine) / total_;
}

double LabelDistribution::mean_confidence(ShotScale scale) const {
  return count(scale) == 0 ? 0 : confidence_sum_[Index(scale)] / count(scale);
}

std::string LabelDistribution::ToString() const {
  std::string out;
  for (ShotScale s : {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong, ShotScale::kUnknown}) {
    if (!out.empty()) out += ", ";
    out += absl::StrFormat("%s %d (%.1f%%", ShotScaleName(s), count(s), percent(s));
    if (count(s) > 0) out += absl::StrFormat(", conf %.2f", mean_confidence(s));
    out += ")";
  }
  out += " | ";
  bool first = true;
  for (FineShotScale f : {FineShotScale::kExtremeClose, FineShotScale::kClose, FineShotScale::kMedium,
                          FineShotScale::kFull, FineShotScale::kLong, FineShotScale::kUnknown}) {
    if (!first) out += ", ";
    first = false;
    out += absl::StrFormat("%s %d (%.1f%%)", FineShotScaleName(f), count(f), percent(f));
  }
  return out + absl::StrFormat("; n=%d", total_);
}

}  // namespace dreamshot::dataset::labels

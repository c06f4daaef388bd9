// Shot-scale agreement (issue 18, beyond the thesis, which asked people): the
// share of a system's generated images whose estimated shot scale equals the
// scale the prompt asked for, per requested scale and over all of them, each
// with a Wilson interval. The automatic counterpart of the survey's "closer
// to the shot type" question; the estimate comes from the dataset builder's
// faces/bodies estimator or CLIP zero-shot, and is an estimate: the same
// agreement of an estimator with itself on real frames of each scale is the
// ceiling to read the figures against.
#ifndef DREAMSHOT_EVALUATOR_SCALE_AGREEMENT_H_
#define DREAMSHOT_EVALUATOR_SCALE_AGREEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/statistics.h"
#include "dataset/types.h"

namespace dreamshot::evaluator {

struct ScaleJudgement {
  std::string system;                // e.g. "base", "base+close LoRA"
  dataset::ShotScale requested = dataset::ShotScale::kUnknown;
  dataset::ShotScale estimated = dataset::ShotScale::kUnknown;  // unknown: no estimate, counts as a miss
};

struct AgreementCell {
  std::string system;
  std::string scale;  // a requested scale's name, or "all"
  int64_t agree = 0;
  int64_t n = 0;
  core::Proportion share;  // agree / n with its Wilson interval
};

// One cell per system (in order of first appearance) and requested scale
// (close, medium, long, those present), then the system's "all" cell.
// INVALID_ARGUMENT for no judgements or a judgement whose requested scale
// is unknown (naming its index and system).
absl::StatusOr<std::vector<AgreementCell>> ScaleAgreement(absl::Span<const ScaleJudgement> judgements,
                                                          double z = 1.959963984540054);

}  // namespace dreamshot::evaluator

#endif  // DREAMSHOT_EVALUATOR_SCALE_AGREEMENT_H_

#include "evaluator/scale_agreement.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "evaluator/metrics.h"

namespace dreamshot::evaluator {

absl::StatusOr<std::vector<AgreementCell>> ScaleAgreement(absl::Span<const ScaleJudgement> judgements, double z) {
  if (judgements.empty()) return absl::InvalidArgumentError("no shot-scale judgements to count");
  using dataset::ShotScale;
  std::vector<std::string> systems;
  std::map<std::string, std::map<ShotScale, std::pair<int64_t, int64_t>>> counts;  // agree, n
  for (size_t i = 0; i < judgements.size(); ++i) {
    const ScaleJudgement& j = judgements[i];
    if (j.requested == ShotScale::kUnknown) {
      return absl::InvalidArgumentError(
          absl::StrCat("judgement ", i, " (system '", j.system, "') has no requested shot scale"));
    }
    auto [it, inserted] = counts.try_emplace(j.system);
    if (inserted) systems.push_back(j.system);
    auto& [agree, n] = it->second[j.requested];
    agree += j.estimated == j.requested ? 1 : 0;
    ++n;
  }
  std::vector<AgreementCell> out;
  for (const std::string& system : systems) {
    int64_t all_agree = 0, all_n = 0;
    for (ShotScale scale : {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong}) {
      auto it = counts[system].find(scale);
      if (it == counts[system].end()) continue;
      const auto [agree, n] = it->second;
      out.push_back({system, dataset::ShotScaleName(scale), agree, n, core::WilsonInterval(agree, n, z)});
      all_agree += agree, all_n += n;
    }
    out.push_back({system, kAllGroups, all_agree, all_n, core::WilsonInterval(all_agree, all_n, z)});
  }
  return out;
}

}  // namespace dreamshot::evaluator

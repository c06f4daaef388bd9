#include "dataset/pool_summary.h"

#include "core/status_macros.h"
#include "dataset/pool_item.h"
#include "dataset/types.h"

namespace dreamshot::dataset {

absl::StatusOr<PoolSummary> SummarizePool(experiments::DatasetStore& store, int64_t run_id) {
  PoolSummary summary;
  ASSIGN_OR_RETURN(std::vector<experiments::DatasetSource> sources, store.ListDatasetSources(run_id));
  for (experiments::DatasetSource& s : sources) {
    if (s.status == "failed") {
      ++summary.sources_failed;
      summary.failed.push_back(std::move(s));
    } else {
      ++summary.sources_done;
    }
  }
  ASSIGN_OR_RETURN(std::vector<experiments::DatasetItem> items, store.ListDatasetItems(run_id));
  summary.items = static_cast<int64_t>(items.size());
  for (const experiments::DatasetItem& item : items) {
    if (item.kept) {
      ++summary.kept;
      if (!item.caption.empty()) ++summary.captioned;
      ScaleLabel label;
      label.scale = ParseShotScale(item.scale).value_or(ShotScale::kUnknown);
      label.fine = ParseFineShotScale(item.fine_scale).value_or(FineShotScale::kUnknown);
      label.confidence = item.scale_confidence;
      summary.labels.Add(label);
      continue;
    }
    absl::StatusOr<std::vector<DropReason>> reasons = ParseDropReasons(item.drop_reasons_json);
    if (!reasons.ok() || reasons->empty()) {
      ++summary.drops["unrecorded"];  // a hand-edited store; still counted
      continue;
    }
    std::map<std::string, bool> named;
    for (const DropReason& r : *reasons) named[r.filter] = true;
    for (const auto& [filter, unused] : named) ++summary.drops[filter];
  }
  ASSIGN_OR_RETURN(summary.splits, store.ListDatasetSplits(run_id));
  return summary;
}

}  // namespace dreamshot::dataset

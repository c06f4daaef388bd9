#include "dataset/pool_dedup.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dataset/filters/hash_index.h"
#include "dataset/pool_item.h"

namespace dreamshot::dataset {

absl::StatusOr<DedupOutcome> MarkDuplicates(experiments::DatasetStore& store, int64_t run_id, int max_distance) {
  ASSIGN_OR_RETURN(std::vector<experiments::DatasetItem> items, store.ListDatasetItems(run_id));
  DedupOutcome outcome;
  std::vector<std::vector<DropReason>> other(items.size());  // each item's reasons besides "duplicate"
  std::vector<filters::HashedItem> candidates;
  std::map<int64_t, size_t> position;
  for (size_t i = 0; i < items.size(); ++i) {
    position[items[i].id] = i;
    ASSIGN_OR_RETURN(std::vector<DropReason> reasons, ParseDropReasons(items[i].drop_reasons_json));
    for (DropReason& r : reasons) {
      if (r.filter != kDuplicateDrop) other[i].push_back(std::move(r));
    }
    if (other[i].empty() && items[i].phash) candidates.push_back({items[i].id, *items[i].phash});
  }
  outcome.candidates = static_cast<int64_t>(candidates.size());
  std::map<int64_t, filters::Duplicate> duplicates;
  if (max_distance >= 0) {
    ASSIGN_OR_RETURN(std::vector<filters::Duplicate> found, filters::FindDuplicates(candidates, max_distance));
    for (const filters::Duplicate& d : found) duplicates[d.id] = d;
  }
  outcome.duplicates = static_cast<int64_t>(duplicates.size());

  std::vector<experiments::DatasetDropUpdate> updates;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].phash) continue;  // never analysed: dropped for that, dedup has no say
    std::vector<DropReason> reasons = other[i];
    if (auto it = duplicates.find(items[i].id); it != duplicates.end()) {
      const experiments::DatasetItem& first = items[position.at(it->second.duplicate_of)];
      reasons.push_back(
          {kDuplicateDrop, absl::StrCat("pHash ", it->second.distance, " bits from item ", first.id, " (", first.source,
                                        " shot ", first.shot_index, "), threshold ", max_distance)});
    }
    const bool kept = reasons.empty();
    const std::string json = DropReasonsJson(reasons);
    if (kept != items[i].kept || json != items[i].drop_reasons_json) updates.push_back({items[i].id, kept, json});
  }
  outcome.changed = static_cast<int64_t>(updates.size());
  if (!updates.empty()) RETURN_IF_ERROR(store.SetDatasetDrops(run_id, updates));
  return outcome;
}

}  // namespace dreamshot::dataset

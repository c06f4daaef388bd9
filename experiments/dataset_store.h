// Dataset pools: the items of a dataset-building run, the per-source
// progress that makes a build resumable, item images, drop state, labels,
// captions and named splits. Items' images are artifacts of the run, written
// in the same transaction as the items (artifact_rows.h).
#ifndef DREAMSHOT_EXPERIMENTS_DATASET_STORE_H_
#define DREAMSHOT_EXPERIMENTS_DATASET_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/dataset_types.h"

namespace dreamshot::experiments {

class Database;

class DatasetStore {
 public:
  // `db` outlives the DatasetStore (the ExperimentStore's, see store.h).
  explicit DatasetStore(Database* db) : db_(db) {}

  // A source's items, their images and its "done" record land in one
  // transaction, so a build that stops mid-way resumes at the first source
  // not recorded, without duplicates. Committing a source again replaces
  // its items and the artifacts they referenced as images. `images` become
  // artifacts of the run (artifact.run_id 0 or run_id) and set their item's
  // image_artifact.
  // INVALID_ARGUMENT for a bad image (index out of range, two for one item,
  // bad path/kind, another run); ALREADY_EXISTS names an image path the run
  // already has; FAILED_PRECONDITION when the old items are in a split or
  // their images in an image pair. Any error commits nothing.
  absl::Status CommitDatasetSource(int64_t run_id, const DatasetSource& source,
                                   const std::vector<DatasetItem>& items,
                                   const std::vector<DatasetItemImage>& images = {});
  // By source path. Every method taking a run_id: NOT_FOUND for a missing run.
  absl::StatusOr<std::vector<DatasetSource>> ListDatasetSources(int64_t run_id);
  // In (source, shot_index) order; `kept_only` leaves out dropped items.
  absl::StatusOr<std::vector<DatasetItem>> ListDatasetItems(int64_t run_id, bool kept_only = false);
  // All or nothing: NOT_FOUND names an item that is not in the run.
  absl::Status SetDatasetLabels(int64_t run_id, const std::vector<DatasetLabelUpdate>& labels);
  absl::Status SetDatasetCaptions(int64_t run_id, const std::vector<DatasetCaptionUpdate>& captions);
  // Kept/dropped state from the dedup pass, all or nothing; each
  // drop_reasons_json must be a JSON array (INVALID_ARGUMENT).
  absl::Status SetDatasetDrops(int64_t run_id, const std::vector<DatasetDropUpdate>& drops);
  // NOT_FOUND for a missing item or artifact; INVALID_ARGUMENT unless the
  // artifact is of the item's run.
  absl::Status SetDatasetItemImage(int64_t item_id, int64_t artifact_id);
  // Named, ordered sets of items, created together or not at all
  // (ALREADY_EXISTS if a name is taken).
  absl::Status CreateDatasetSplits(int64_t run_id, const std::map<std::string, std::vector<int64_t>>& splits);
  absl::StatusOr<std::vector<int64_t>> GetDatasetSplit(int64_t run_id, const std::string& name);
  // Split name → item count.
  absl::StatusOr<std::map<std::string, int64_t>> ListDatasetSplits(int64_t run_id);

 private:
  Database* db_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_DATASET_STORE_H_

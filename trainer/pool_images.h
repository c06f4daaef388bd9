// Training images from a dataset pool (a dataset-building run): the kept
// items of one shot scale in one split, each as its stored training crop
// (an artifact of the pool run) with the item's caption. And a fingerprint
// of any image set, so an adapter records exactly what it learnt from.
#ifndef DREAMSHOT_TRAINER_POOL_IMAGES_H_
#define DREAMSHOT_TRAINER_POOL_IMAGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/artifact_store.h"
#include "experiments/dataset_store.h"
#include "trainer/instance_images.h"

namespace dreamshot::trainer {

struct PoolSelection {
  int64_t run_id = 0;
  std::string split;  // "" : every kept item
  std::string scale;  // "close", "medium", "long"; "" : every scale
};

// In the split's order (the pool's order without a split). NOT_FOUND for a
// missing run or split; FAILED_PRECONDITION when nothing is selected,
// saying how many kept items of each scale the split does hold, or when a
// selected item has no training image.
absl::StatusOr<std::vector<CaptionedImage>> ListPoolImages(experiments::DatasetStore& datasets,
                                                           experiments::ArtifactStore& artifacts,
                                                           const PoolSelection& selection);

// SHA-256 over each image's bytes and caption, in order: equal for the same
// pictures and captions wherever they are stored.
absl::StatusOr<std::string> ImageSetSha256(const std::vector<CaptionedImage>& images);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_POOL_IMAGES_H_

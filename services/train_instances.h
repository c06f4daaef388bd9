// The instance images a TrainConfig names, from a dataset pool (pool_run_id,
// pool_split, shot_scale) or a folder (instance_dir), with a description
// of where they came from for the adapter's metadata.
#ifndef DREAMSHOT_SERVICES_TRAIN_INSTANCES_H_
#define DREAMSHOT_SERVICES_TRAIN_INSTANCES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dreamshot/v1/trainer.pb.h"
#include "experiments/artifact_store.h"
#include "experiments/dataset_store.h"
#include "trainer/instance_images.h"

namespace dreamshot::services {

// The stores a pool is read from; a folder needs neither.
struct TrainInputs {
  experiments::DatasetStore* datasets = nullptr;
  experiments::ArtifactStore* artifacts = nullptr;
};

struct InstanceSet {
  std::vector<trainer::CaptionedImage> images;
  std::string source;  // "pool run 12 split 'train' (close)" or the folder
};

// FAILED_PRECONDITION for a pool without stores to read it from; the
// errors of trainer::ListPoolImages / ListImageFolder otherwise.
absl::StatusOr<InstanceSet> ListInstances(const v1::TrainConfig& config, const TrainInputs& inputs);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_INSTANCES_H_

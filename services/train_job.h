// The body of a "train" job: a TrainConfig (resolved by
// services/train_config.h) run by trainer/: the base model loaded, the
// instance and class images encoded, a LoRA adapter trained with a
// checkpoint under `checkpoint_root`/job-<id>/, metrics logged to the run
// every step, and the adapter stored as the run's artifact
// lora/pytorch_lora_weights.safetensors (peft format). Resumable: a job
// interrupted or cancelled goes on from its checkpoint when started again.
#ifndef DREAMSHOT_SERVICES_TRAIN_JOB_H_
#define DREAMSHOT_SERVICES_TRAIN_JOB_H_

#include <string>

#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/store.h"
#include "jobs/job_kind.h"

namespace dreamshot::services {

inline constexpr char kTrainJob[] = "train";

jobs::JobKind TrainJobKind(experiments::ExperimentStore* runs, experiments::ArtifactStore* artifacts,
                           experiments::ArtifactBlobs* blobs, std::string checkpoint_root);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_JOB_H_

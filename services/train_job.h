// The body of a "train" job: a TrainConfig (resolved by
// services/train_config.h) run by trainer/: the base model loaded, the
// instance and class images encoded, a LoRA adapter trained with a
// checkpoint under `checkpoint_root`/job-<id>/, metrics logged to the run
// every step, validation images every N steps, and the adapter stored as
// the run's artifact lora/pytorch_lora_weights.safetensors (peft format) or
// lora/<name>.safetensors (kohya), its __metadata__ saying what it is
// (services/adapter_metadata.h). Resumable: a job
// interrupted or cancelled goes on from its checkpoint when started again.
#ifndef DREAMSHOT_SERVICES_TRAIN_JOB_H_
#define DREAMSHOT_SERVICES_TRAIN_JOB_H_

#include <memory>
#include <string>

#include "diffusion/pipeline/model_cache.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/dataset_store.h"
#include "experiments/store.h"
#include "jobs/job_kind.h"
#include "services/early_stop_requests.h"

namespace dreamshot::services {

inline constexpr char kTrainJob[] = "train";

struct TrainJobDeps {
  experiments::ExperimentStore* runs = nullptr;
  experiments::ArtifactStore* artifacts = nullptr;
  experiments::DatasetStore* datasets = nullptr;  // pools to train from
  experiments::ArtifactBlobs* blobs = nullptr;
  diffusion::ModelCache* models = nullptr;  // validation images, base-model hashes
  std::string checkpoint_root;              // <data_dir>/training
  std::string cache_root;                   // <data_dir>/cache: class images, latents, text states
  // Sweep early-stop verdicts; a job finishes early when one names it.
  std::shared_ptr<EarlyStopRequests> early_stops;
};

jobs::JobKind TrainJobKind(TrainJobDeps deps);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_JOB_H_

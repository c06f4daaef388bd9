// Validation images while a LoRA trains: every N optimizer steps the
// adapter of the moment is written to a scratch file and fixed prompts ×
// seeds are rendered through the generator's own path (the cached base
// model plus that file, as `dreamshot generate --lora` would), each stored
// as an artifact of the run at "<prefix>/validation/step-000040/p0-seed0.png",
// so a grid over steps can be drawn later. A resumed run that renders a
// step again keeps the images already stored.
#ifndef DREAMSHOT_SERVICES_TRAIN_VALIDATION_H_
#define DREAMSHOT_SERVICES_TRAIN_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cancel_flag.h"
#include "diffusion/pipeline/model_cache.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "models/lora/lora_weights.h"

namespace dreamshot::services {

struct ValidationSettings {
  diffusion::ModelKey base;
  std::vector<std::string> prompts;
  std::vector<uint64_t> seeds;
  int64_t resolution = 512;
  int64_t steps = 25;
  std::string scratch_dir;  // holds the adapter file while it renders
  int64_t run_id = 0;
  std::string path_prefix;  // of the run's artifacts
};

class TrainValidation {
 public:
  TrainValidation(ValidationSettings settings, diffusion::ModelCache* models, experiments::ArtifactStore* artifacts,
                  experiments::ArtifactBlobs* blobs)
      : settings_(std::move(settings)), models_(models), artifacts_(artifacts), blobs_(blobs) {}

  // Renders every prompt × seed with `adapter`; returns how many images
  // were stored now (0 for those a previous attempt stored).
  absl::StatusOr<int64_t> Render(int64_t step, const models::lora::LoraWeights& adapter,
                                 const core::CancelFlag* cancel);

 private:
  ValidationSettings settings_;
  diffusion::ModelCache* models_;
  experiments::ArtifactStore* artifacts_;
  experiments::ArtifactBlobs* blobs_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_VALIDATION_H_

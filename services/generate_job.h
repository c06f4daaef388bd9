// The bodies of generation jobs: "generate" (images of one prompt) and
// "pairs" (A/B pairs of two models). A job reads its request back from its
// stored config (seeds already drawn, so a retry makes the same images),
// renders, stores each image as an artifact of its run and publishes it as
// a GenerateResponse / GeneratePairsResponse output.
#ifndef DREAMSHOT_SERVICES_GENERATE_JOB_H_
#define DREAMSHOT_SERVICES_GENERATE_JOB_H_

#include "diffusion/pipeline/model_cache.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/pair_store.h"
#include "jobs/job_kind.h"

namespace dreamshot::services {

inline constexpr char kGenerateJob[] = "generate";
inline constexpr char kPairsJob[] = "pairs";

jobs::JobKind GenerateJobKind(experiments::ArtifactStore* artifacts, experiments::ArtifactBlobs* blobs,
                              diffusion::ModelCache* models);
jobs::JobKind PairsJobKind(experiments::ArtifactStore* artifacts, experiments::PairStore* pairs,
                           experiments::ArtifactBlobs* blobs, diffusion::ModelCache* models);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_GENERATE_JOB_H_

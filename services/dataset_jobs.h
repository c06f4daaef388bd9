// The bodies of DatasetService's jobs: "build_pool" (a pool build, which
// resumes at the first source its run has not recorded) and "detect_shots"
// (shot detection on one video, answering a unary call).
#ifndef DREAMSHOT_SERVICES_DATASET_JOBS_H_
#define DREAMSHOT_SERVICES_DATASET_JOBS_H_

#include "experiments/artifact_blobs.h"
#include "experiments/dataset_store.h"
#include "jobs/job_kind.h"

namespace dreamshot::services {

inline constexpr char kBuildPoolJob[] = "build_pool";
inline constexpr char kDetectShotsJob[] = "detect_shots";
// Builds run one at a time in their lane, single-video looks in theirs, so
// a look never waits for a build.
inline constexpr char kBuildLane[] = "dataset-build";
inline constexpr char kShotsLane[] = "dataset-shots";
// The run tag of a pool build.
inline constexpr char kPoolRunKind[] = "dataset";

jobs::JobKind BuildPoolJobKind(experiments::DatasetStore* store, experiments::ArtifactBlobs* blobs);
jobs::JobKind DetectShotsJobKind();

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_DATASET_JOBS_H_

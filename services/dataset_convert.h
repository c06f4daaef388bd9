// Proto <-> domain conversion for DatasetService, with range checks that
// name the field: a bad request is refused before it is queued.
#ifndef DREAMSHOT_SERVICES_DATASET_CONVERT_H_
#define DREAMSHOT_SERVICES_DATASET_CONVERT_H_

#include "absl/status/statusor.h"
#include "dataset/pool_build.h"
#include "dataset/video_analysis.h"
#include "dreamshot/v1/dataset.pb.h"

namespace dreamshot::services {

absl::StatusOr<dataset::shots::ShotDetectionOptions> FromProto(const v1::ShotDetectionConfig& config);

struct KeyframeSettings {
  dataset::KeyframeAnalysisConfig analysis;
  dataset::labels::PeopleDetectorConfig people;
};
absl::StatusOr<KeyframeSettings> FromProto(const v1::KeyframeConfig& config);

// Options for a build; the sources are the request's (checked elsewhere).
absl::StatusOr<dataset::PoolBuildOptions> FromProto(const v1::BuildPoolRequest& request);

v1::ShotType ToShotType(dataset::ShotScale scale);
void ToProto(const dataset::AnalyzedShot& shot, bool with_analysis, v1::DetectedShot* out);
void ToProto(const dataset::PoolSourceOutcome& outcome, v1::SourceOutcome* out);
void ToProto(const dataset::PoolBuildProgress& progress, v1::BuildProgress* out);
void ToProto(const dataset::PoolSummary& summary, v1::PoolReport* out);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_DATASET_CONVERT_H_

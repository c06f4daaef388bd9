// Proto <-> domain conversion for ExperimentService.
#ifndef DREAMSHOT_SERVICES_EXPERIMENT_CONVERT_H_
#define DREAMSHOT_SERVICES_EXPERIMENT_CONVERT_H_

#include "absl/status/statusor.h"
#include "dreamshot/v1/experiment.pb.h"
#include "experiments/compare.h"
#include "experiments/types.h"

namespace dreamshot::services {

v1::RunStatus ToProto(experiments::RunStatus status);
// INVALID_ARGUMENT for RUN_STATUS_UNSPECIFIED or an unknown number.
absl::StatusOr<experiments::RunStatus> FromProto(v1::RunStatus status);

void ToProto(const experiments::Experiment& in, v1::Experiment* out);
void ToProto(const experiments::Run& in, v1::Run* out);
void ToProto(const experiments::MetricPoint& in, v1::MetricPoint* out);
void ToProto(const experiments::Artifact& in, v1::ArtifactRef* out);
void ToProto(const experiments::RunComparison& in, v1::CompareRunsResponse* out);
void ToProto(const experiments::RunGroupAggregate& in, v1::RunGroup* out);

experiments::MetricPoint FromProto(const v1::MetricPoint& in);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_EXPERIMENT_CONVERT_H_

// SweepStatus: the grid of a group of training jobs, each child with its
// dimension values, job state, run, and latest logged loss and step.
#ifndef DREAMSHOT_SERVICES_TRAIN_SWEEP_STATUS_H_
#define DREAMSHOT_SERVICES_TRAIN_SWEEP_STATUS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "dreamshot/v1/trainer.pb.h"
#include "experiments/store.h"
#include "jobs/job_runner.h"

namespace dreamshot::services {

// NOT_FOUND for an unknown job; FAILED_PRECONDITION for a job that is not
// the parent of training jobs (a sweep, or a group made by
// SubmitTrainGroup, whose children then have no dimension values).
absl::StatusOr<v1::SweepStatusResponse> GetSweepStatus(experiments::ExperimentStore* runs, jobs::JobRunner* runner,
                                                      int64_t parent_job_id);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_SWEEP_STATUS_H_

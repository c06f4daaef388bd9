// A parent job whose children are training jobs, each with its own run
// under the parent's run: a sweep (LaunchSweep), or one StartTraining over
// several shot scales. The caller resolves every child's TrainConfig first
// (ResolveTrainConfig), so that a bad child refuses the whole group before
// anything is stored.
#ifndef DREAMSHOT_SERVICES_TRAIN_SWEEP_GROUP_H_
#define DREAMSHOT_SERVICES_TRAIN_SWEEP_GROUP_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dreamshot/v1/trainer.pb.h"
#include "experiments/store.h"
#include "jobs/job_kind.h"
#include "jobs/job_runner.h"

namespace dreamshot::services {

inline constexpr char kSweepJob[] = "sweep";
// One StartTraining over several shot scales.
inline constexpr char kTrainScalesJob[] = "train_scales";

struct TrainGroupChild {
  std::string name;        // its run's name ("rank=8 lr=5e-05 seed=2", "close shots from megamind")
  v1::TrainConfig config;  // resolved
};

struct TrainGroupRequest {
  // The parent job's kind: one registered with TrainGroupKind.
  std::string kind = kSweepJob;
  // The parent run's name, unless target.run_name gives one.
  std::string name;
  // The parent run's config, flattened into its params (a
  // LaunchSweepRequest, a StartTrainingRequest). Required.
  const google::protobuf::Message* run_config = nullptr;
  v1::RunTarget target;         // experiment (default "training") and run name; run_id is refused
  v1::JobOptions job;           // each child's priority
  v1::TrainGroupConfig group;   // the parent job's config: max_concurrent, a sweep's spec
  std::vector<TrainGroupChild> children;
};

struct SubmittedTrainGroup {
  int64_t parent_job_id = 0;
  int64_t parent_run_id = 0;
  std::vector<int64_t> child_job_ids;  // in the order given
};

// The parent job (running at once, with its run) and one queued "train"
// job per child, all in one go (jobs::JobRunner::SubmitGroup): a lane that
// is full refuses all of it. INVALID_ARGUMENT for no children, a target
// naming a run, or a missing run_config.
absl::StatusOr<SubmittedTrainGroup> SubmitTrainGroup(experiments::ExperimentStore* runs, jobs::JobRunner* runner,
                                                     const TrainGroupRequest& request);

// The kind of a parent job of training jobs, named `name`: at most its
// TrainGroupConfig.max_concurrent children run at once on a device.
jobs::JobKind TrainGroupKind(std::string name);

// The parent job's config; FAILED_PRECONDITION naming the job when it is
// not a group of training jobs.
absl::StatusOr<v1::TrainGroupConfig> ReadTrainGroupConfig(const experiments::JobRecord& group);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_SWEEP_GROUP_H_

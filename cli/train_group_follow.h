// Following a parent job of training jobs (a sweep, or one training per
// shot scale) through TrainerService.SweepStatus: a line per child that
// starts or ends, a bar over all the children's steps with an ETA.
#ifndef DREAMSHOT_CLI_TRAIN_GROUP_FOLLOW_H_
#define DREAMSHOT_CLI_TRAIN_GROUP_FOLLOW_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cli/command.h"
#include "dreamshot/v1/trainer.pb.h"

namespace dreamshot::cli {

absl::StatusOr<v1::SweepStatusResponse> FetchTrainGroupStatus(Context& ctx, int64_t job_id);
// "2 finished, 1 running".
std::string TrainGroupCounts(const v1::SweepStatusResponse& s);
// Until the parent ends (its outcome) or Ctrl-C (stops following only).
// `label` names the parent in the lines ("sweep job", "job").
absl::Status FollowTrainGroup(Context& ctx, int64_t parent_id, const std::string& label);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_TRAIN_GROUP_FOLLOW_H_

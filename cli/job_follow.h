// Following a job from the CLI: states and results as lines, progress as a
// bar on a terminal, exit status the job's outcome; Ctrl-C stops following
// (exit 130) and leaves the job running. Shared by `dreamshot jobs watch`
// and the commands that submit a job and wait for it (`dreamshot train`).
#ifndef DREAMSHOT_CLI_JOB_FOLLOW_H_
#define DREAMSHOT_CLI_JOB_FOLLOW_H_

#include <cstdint>

#include "absl/status/status.h"
#include "cli/command.h"

namespace dreamshot::cli {

absl::Status FollowJob(Context& ctx, int64_t job_id, int64_t after_seq = 0);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_JOB_FOLLOW_H_

// Following a job from the CLI: states and results as lines, progress as a
// bar on a terminal, exit status the job's outcome; Ctrl-C stops following
// (exit 130) and leaves the job running. Shared by `dreamshot jobs watch`
// and the commands that submit a job and wait for it (`dreamshot train`).
#ifndef DREAMSHOT_CLI_JOB_FOLLOW_H_
#define DREAMSHOT_CLI_JOB_FOLLOW_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "cli/command.h"
#include "dreamshot/v1/job.pb.h"

namespace dreamshot::cli {

absl::Status FollowJob(Context& ctx, int64_t job_id, int64_t after_seq = 0);

// The exit status of an ended job: OK when it finished, else its error
// code and message (interrupted: UNAVAILABLE, saying how to retry it).
absl::Status JobOutcome(const v1::Job& job);
// "running", "finished", ...
std::string JobStateName(v1::JobState state);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_JOB_FOLLOW_H_

// Jobs between the jobs layer and JobService's messages, and the status a
// call that ran a job ends with.
#ifndef DREAMSHOT_SERVICES_JOB_CONVERT_H_
#define DREAMSHOT_SERVICES_JOB_CONVERT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dreamshot/v1/job.pb.h"
#include "experiments/job_types.h"
#include "jobs/job_events.h"

namespace dreamshot::services {

void ToProto(const experiments::JobRecord& job, v1::Job* out);
void ToProto(const jobs::JobEvent& event, v1::JobEvent* out);
absl::StatusOr<experiments::JobState> FromProto(v1::JobState state);

// What a call that submitted the job ends with once it ended: OK when it
// finished, else its error (an interrupted job: UNAVAILABLE, saying how to
// run it again).
absl::Status OutcomeOf(const experiments::JobRecord& job);
// For a call whose job is still queued or running when the server stops.
absl::Status StoppingOutcome(const experiments::JobRecord& job);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_JOB_CONVERT_H_

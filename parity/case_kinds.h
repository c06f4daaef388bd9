// One runner per case kind; each lives in its own file.
#ifndef DREAMSHOT_PARITY_CASE_KINDS_H_
#define DREAMSHOT_PARITY_CASE_KINDS_H_

#include "parity/case_runner.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunClipTokenizerCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunClipTextModelCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunUNetCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunVaeCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunSchedulerTrajectoryCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunSchedulerForwardProcessCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunPipelineCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunLoraUNetCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunDreamBoothLoraTrainCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunClipModelCase(const ParityCase& c, const RunOptions& options);
absl::StatusOr<CaseResult> RunDinoVitCase(const ParityCase& c, const RunOptions& options);

}  // namespace dreamshot::parity

#endif  // DREAMSHOT_PARITY_CASE_KINDS_H_

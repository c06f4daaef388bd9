// A sweep's early-stop rule (dreamshot.v1.EarlyStop, the median stopping
// rule): when a child of a sweep logs step S, the mean of its metric over
// steps (S - window, S] is compared with the median of the same mean over
// its siblings that have logged S; above factor × that median (with at
// least min_siblings of them), the child is asked to finish early
// (services/early_stop_requests.h): it ends finished at step S with its
// adapter, its run tagged and noted with the verdict. It listens to the
// jobs' progress (jobs::JobRunner::AddProgressListener), on the child's own
// thread, after the train job has logged the step's metrics, so the
// decision is made at step S exactly and the child stops before step S + 1.
#ifndef DREAMSHOT_SERVICES_TRAIN_SWEEP_STOP_H_
#define DREAMSHOT_SERVICES_TRAIN_SWEEP_STOP_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "dreamshot/v1/trainer.pb.h"
#include "experiments/store.h"
#include "jobs/job_runner.h"
#include "services/early_stop_requests.h"

namespace dreamshot::services {

class SweepEarlyStop {
 public:
  SweepEarlyStop(experiments::ExperimentStore* runs, jobs::JobRunner* runner,
                 std::shared_ptr<EarlyStopRequests> requests)
      : runs_(runs), runner_(runner), requests_(std::move(requests)) {}

  // For jobs::JobRunner::AddProgressListener.
  void OnProgress(const experiments::JobRecord& job, int64_t run_id, const google::protobuf::Message& progress);

 private:
  // The rule of a group (step 0: none), read once from its stored config.
  v1::EarlyStop RuleOf(int64_t group_id);

  experiments::ExperimentStore* runs_;
  jobs::JobRunner* runner_;  // its job store: the siblings
  std::shared_ptr<EarlyStopRequests> requests_;
  std::mutex mu_;
  std::map<int64_t, v1::EarlyStop> rules_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_SWEEP_STOP_H_

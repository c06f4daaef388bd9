// Server-streaming watch of a run's new metric points. Each watch runs on its
// own thread, which waits on the store's change signal (or polls, for writers
// in other processes) and ends the stream when the run reaches a terminal state.
#ifndef DREAMSHOT_SERVICES_METRIC_WATCH_H_
#define DREAMSHOT_SERVICES_METRIC_WATCH_H_

#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "dreamshot/v1/experiment.pb.h"
#include "experiments/store.h"

namespace dreamshot::services {

struct MetricWatchLimits {
  int max_concurrent = 64;
  std::chrono::milliseconds poll{500};
};

// Returns a reactor that owns itself (deleted by gRPC's OnDone). The caller
// has authenticated the call already.
grpc::ServerWriteReactor<v1::WatchMetricsResponse>* StartMetricWatch(
    experiments::ExperimentStore* store, const v1::WatchMetricsRequest& request,
    const MetricWatchLimits& limits, std::shared_ptr<std::atomic<int>> active_watches);

// A reactor that immediately finishes with `status` (e.g. failed auth).
grpc::ServerWriteReactor<v1::WatchMetricsResponse>* FailedMetricWatch(const grpc::Status& status);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_METRIC_WATCH_H_

#include "services/metric_watch.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rpc/grpc_status.h"
#include "services/experiment_convert.h"

namespace dreamshot::services {

using rpc::ToGrpcStatus;

namespace {

using Response = v1::WatchMetricsResponse;

constexpr int kPointsPerMessage = 10000;
constexpr std::chrono::milliseconds kCancelCheck{100};

class FailedWatch final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FailedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// What the watch thread and gRPC's callbacks share. It outlives the reactor.
struct WatchState {
  std::mutex mu;
  std::condition_variable cv;
  bool write_pending = false;
  bool write_ok = true;
  std::atomic<bool> cancelled{false};
};

class MetricWatch final : public grpc::ServerWriteReactor<Response> {
 public:
  MetricWatch(experiments::ExperimentStore* store, v1::WatchMetricsRequest request,
              MetricWatchLimits limits, std::shared_ptr<std::atomic<int>> active)
      : state_(std::make_shared<WatchState>()) {
    // The thread gets everything by value; after it calls Finish it touches
    // nothing of the reactor, which gRPC may then delete.
    std::thread(&MetricWatch::Loop, this, state_, store, std::move(request), limits,
                std::move(active))
        .detach();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->write_pending = false;
    state_->write_ok = ok;
    state_->cv.notify_all();
  }
  void OnCancel() override {
    state_->cancelled = true;
    state_->cv.notify_all();
  }
  void OnDone() override { delete this; }

 private:
  // Sends one message; false if the client went away.
  bool Send(WatchState& state, Response* message) {
    {
      std::lock_guard<std::mutex> lock(state.mu);
      state.write_pending = true;
    }
    StartWrite(message);
    std::unique_lock<std::mutex> lock(state.mu);
    state.cv.wait(lock, [&] { return !state.write_pending; });
    return state.write_ok && !state.cancelled;
  }

  void Loop(std::shared_ptr<WatchState> state, experiments::ExperimentStore* store,
            v1::WatchMetricsRequest request, MetricWatchLimits limits,
            std::shared_ptr<std::atomic<int>> active) {
    grpc::Status status = Run(*state, store, request, limits);
    --*active;
    Finish(status);
  }

  grpc::Status Run(WatchState& state, experiments::ExperimentStore* store,
                   const v1::WatchMetricsRequest& request, const MetricWatchLimits& limits) {
    const std::vector<std::string> keys(request.keys().begin(), request.keys().end());
    int64_t seq = 0;
    if (!request.from_start()) {
      absl::StatusOr<int64_t> last = store->LastMetricSeq(request.run_id());
      if (!last.ok()) return ToGrpcStatus(last.status());
      seq = *last;
    }
    Response message;
    while (!state.cancelled) {
      const uint64_t version = store->ChangeVersion();
      // Status before points: every point logged before the run ended is
      // then visible to the read that follows.
      absl::StatusOr<experiments::Run> run = store->GetRun(request.run_id());
      if (!run.ok()) return ToGrpcStatus(run.status());
      absl::StatusOr<std::vector<experiments::StoredMetricPoint>> points =
          store->MetricsSince(request.run_id(), seq, keys, kPointsPerMessage);
      if (!points.ok()) return ToGrpcStatus(points.status());
      const bool ended = experiments::IsTerminal(run->status);
      if (!points->empty() || ended) {
        message.Clear();
        message.set_status(ToProto(run->status));
        for (const auto& p : *points) ToProto(p.point, message.add_points());
        if (!points->empty()) seq = points->back().seq;
        if (!Send(state, &message)) return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
      }
      if (static_cast<int>(points->size()) == kPointsPerMessage) continue;  // more to drain
      if (ended) return grpc::Status::OK;
      for (auto waited = std::chrono::milliseconds(0);
           waited < limits.poll && !state.cancelled && store->ChangeVersion() == version;
           waited += kCancelCheck) {
        store->WaitForChange(version, kCancelCheck);
      }
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
  }

  std::shared_ptr<WatchState> state_;
};

}  // namespace

grpc::ServerWriteReactor<Response>* FailedMetricWatch(const grpc::Status& status) {
  return new FailedWatch(status);
}

grpc::ServerWriteReactor<Response>* StartMetricWatch(experiments::ExperimentStore* store,
                                                     const v1::WatchMetricsRequest& request,
                                                     const MetricWatchLimits& limits,
                                                     std::shared_ptr<std::atomic<int>> active) {
  if (++*active > limits.max_concurrent) {
    --*active;
    return FailedMetricWatch(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("too many concurrent watches (limit ", limits.max_concurrent, ")")));
  }
  return new MetricWatch(store, request, limits, std::move(active));
}

}  // namespace dreamshot::services

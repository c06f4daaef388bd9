// The server side of a streaming call whose messages come from a worker
// thread (a queued generation or training job). The worker pushes messages
// and finally closes with a status; writes go out one at a time in order.
// Progress messages are coalescable: one not yet sent is replaced by the
// next, so a slow client gets the latest progress instead of a backlog, and
// the worker never waits on the network. A client that cancels (or goes
// away) triggers `on_cancel` once; pushes after that are dropped.
//
// Lifetime: gRPC deletes the reactor after Finish and OnDone. The worker
// may use the pointer until it calls Close and never afterwards.
#ifndef DREAMSHOT_SERVICES_JOB_STREAM_H_
#define DREAMSHOT_SERVICES_JOB_STREAM_H_

#include <grpcpp/support/server_callback.h>

#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace dreamshot::services {

template <typename Response>
class JobStream final : public grpc::ServerWriteReactor<Response> {
 public:
  JobStream() = default;

  // Called at most once, from a gRPC thread, when the client cancels.
  // Set it before the first Push.
  void set_on_cancel(std::function<void()> on_cancel) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!cancelled_) {
        on_cancel_ = std::move(on_cancel);
        return;
      }
    }
    on_cancel();  // the client left before the worker was wired up
  }

  void Push(Response message, bool coalescable = false) {
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_ || broken_) return;
    if (coalescable && !pending_.empty() && pending_.back().second) {
      pending_.back().first = std::move(message);
    } else {
      pending_.emplace_back(std::move(message), coalescable);
    }
    if (!writing_) StartNextLocked(lock);
  }

  // The worker's last call.
  void Close(grpc::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    closed_ = true;
    status_ = std::move(status);
    if (!writing_) FinishLocked(lock);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      broken_ = true;
      pending_.clear();
    }
    if (!pending_.empty()) {
      StartNextLocked(lock);
    } else if (closed_) {
      FinishLocked(lock);
    }
  }

  void OnCancel() override {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      fn = std::move(on_cancel_);
      on_cancel_ = nullptr;
    }
    if (fn) fn();
  }

  void OnDone() override { delete this; }

 private:
  void StartNextLocked(std::unique_lock<std::mutex>& lock) {
    current_ = std::move(pending_.front().first);
    pending_.pop_front();
    writing_ = true;
    lock.unlock();
    this->StartWrite(&current_);
  }

  void FinishLocked(std::unique_lock<std::mutex>& lock) {
    if (finished_) return;
    finished_ = true;
    grpc::Status status = status_;
    lock.unlock();
    // May lead to OnDone (and `delete this`) on another thread: touch
    // nothing afterwards.
    this->Finish(status);
  }

  std::mutex mu_;
  std::deque<std::pair<Response, bool>> pending_;  // message, coalescable
  Response current_;                                // the write in flight
  bool writing_ = false, closed_ = false, broken_ = false, finished_ = false, cancelled_ = false;
  grpc::Status status_;
  std::function<void()> on_cancel_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_JOB_STREAM_H_

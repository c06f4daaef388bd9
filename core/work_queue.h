// A bounded FIFO of jobs run one at a time on their own thread: one per
// device, so that generation requests share a GPU (or the CPU) in order
// instead of thrashing it. Past its capacity a submission is refused with
// RESOURCE_EXHAUSTED (a gRPC client then backs off) rather than queued
// without bound. Every job gets a cancellation flag it polls between steps;
// a job cancelled before it starts never runs.
#ifndef DREAMSHOT_CORE_WORK_QUEUE_H_
#define DREAMSHOT_CORE_WORK_QUEUE_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dreamshot::core {

class CancelFlag {
 public:
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// A submitted job: cancel it, or wait for its status.
class JobHandle {
 public:
  void Cancel() { flag_.Cancel(); }
  bool cancelled() const { return flag_.cancelled(); }
  // Blocks until the job finished (or was dropped) and returns its status.
  absl::Status Wait();
  bool done() const;

 private:
  friend class WorkQueue;
  void Finish(absl::Status status);

  CancelFlag flag_;
  mutable std::mutex mu_;
  std::condition_variable finished_;
  std::optional<absl::Status> status_;
};

class WorkQueue {
 public:
  using Job = std::function<absl::Status(const CancelFlag&)>;
  // Called once with the job's final status (also when it never ran), on
  // the thread that finished it, before waiters of the handle wake.
  using Done = std::function<void(const absl::Status&)>;

  // `capacity`: jobs waiting or running at once (≥ 1).
  WorkQueue(std::string name, int capacity);
  // Shutdown().
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  absl::StatusOr<std::shared_ptr<JobHandle>> Submit(Job job, Done done = nullptr);
  // Asks the job to stop. A job still waiting leaves the queue at once
  // (finishing CANCELLED) instead of when its turn would have come.
  void Cancel(const std::shared_ptr<JobHandle>& handle);
  // Jobs waiting or running.
  int load() const;
  // Refuses new jobs (UNAVAILABLE), finishes the queued ones with
  // CANCELLED, asks the running one to cancel and waits for it: when this
  // returns, every job's `done` has run. Idempotent.
  void Shutdown();

 private:
  struct Item {
    Job job;
    std::shared_ptr<JobHandle> handle;
    Done done;
  };
  static void Complete(Item& item, absl::Status status);
  void Run();

  const std::string name_;
  const int capacity_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::deque<Item> queue_;
  std::shared_ptr<JobHandle> running_;
  bool stopping_ = false;
  std::mutex shutdown_mu_;  // one Shutdown joins the worker
  std::thread worker_;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_WORK_QUEUE_H_

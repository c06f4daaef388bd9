#include "core/work_queue.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/exception_text.h"

namespace dreamshot::core {

absl::Status JobHandle::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  finished_.wait(lock, [&] { return status_.has_value(); });
  return *status_;
}

bool JobHandle::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_.has_value();
}

void JobHandle::Finish(absl::Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(status);
  }
  finished_.notify_all();
}

WorkQueue::WorkQueue(std::string name, int capacity)
    : name_(std::move(name)), capacity_(capacity < 1 ? 1 : capacity), worker_([this] { Run(); }) {}

WorkQueue::~WorkQueue() { Shutdown(); }

void WorkQueue::Shutdown() {
  std::lock_guard<std::mutex> once(shutdown_mu_);
  if (!worker_.joinable()) return;
  std::deque<Item> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
    if (running_) running_->Cancel();
  }
  work_.notify_all();
  for (Item& item : dropped) Complete(item, absl::CancelledError(absl::StrCat(name_, " is shutting down")));
  worker_.join();
}

void WorkQueue::Complete(Item& item, absl::Status status) {
  if (item.done) item.done(status);
  item.handle->Finish(std::move(status));
}

absl::StatusOr<std::shared_ptr<JobHandle>> WorkQueue::Submit(Job job, Done done) {
  auto handle = std::make_shared<JobHandle>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int load = static_cast<int>(queue_.size()) + (running_ ? 1 : 0);
    if (stopping_) return absl::UnavailableError(absl::StrCat(name_, " is shutting down"));
    if (load >= capacity_) {
      return absl::ResourceExhaustedError(
          absl::StrCat(name_, " is full: ", load, " jobs waiting or running (capacity ", capacity_, "); retry later"));
    }
    queue_.push_back({std::move(job), handle, std::move(done)});
  }
  work_.notify_one();
  return handle;
}

void WorkQueue::Cancel(const std::shared_ptr<JobHandle>& handle) {
  handle->Cancel();
  std::optional<Item> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->handle == handle) {
        dropped = std::move(*it);
        queue_.erase(it);
        break;
      }
    }
  }
  if (dropped) Complete(*dropped, absl::CancelledError("cancelled before it started"));
}

int WorkQueue::load() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size()) + (running_ ? 1 : 0);
}

void WorkQueue::Run() {
  while (true) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      item = std::move(queue_.front());
      queue_.pop_front();
      running_ = item.handle;
    }
    absl::Status status;
    if (item.handle->cancelled()) {
      status = absl::CancelledError("cancelled before it started");
    } else {
      // A job that throws (a LibTorch error no caller converted) fails
      // alone; it must not take the process, and the other jobs, down. Its
      // status reaches clients: one line, the full text (a LibTorch
      // backtrace) goes to the server log.
      try {
        status = item.job(item.handle->flag_);
      } catch (const std::exception& e) {
        status = absl::InternalError(absl::StrCat("job failed with an unexpected error: ",
                                                  ReportUnexpectedException(e, absl::StrCat(name_, " job"))));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.reset();
    }
    Complete(item, std::move(status));
  }
}

}  // namespace dreamshot::core

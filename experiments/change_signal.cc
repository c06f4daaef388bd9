#include "experiments/change_signal.h"

namespace dreamshot::experiments {

void ChangeSignal::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++version_;
  }
  cv_.notify_all();
}

uint64_t ChangeSignal::Version() {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

void ChangeSignal::Wait(uint64_t seen_version, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return version_ != seen_version; });
}

}  // namespace dreamshot::experiments

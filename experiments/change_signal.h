// The run store's change notifications: a version that writers bump and
// watchers (metric watches) wait on. It is its own class so that a concept
// store whose writes change runs (a survey's status moves its run) can bump
// the run store's signal without depending on the run store.
#ifndef DREAMSHOT_EXPERIMENTS_CHANGE_SIGNAL_H_
#define DREAMSHOT_EXPERIMENTS_CHANGE_SIGNAL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace dreamshot::experiments {

class ChangeSignal {
 public:
  // Bumps the version and wakes every waiter.
  void Notify();
  uint64_t Version();
  // Blocks until the version differs from `seen_version` or `timeout` passes.
  void Wait(uint64_t seen_version, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t version_ = 0;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_CHANGE_SIGNAL_H_

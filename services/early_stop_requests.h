// Hands a sweep's early-stop verdicts (services/train_sweep_stop.h) to the
// training jobs they stop. A stopped child finishes at the step it reached,
// its adapter saved and its run marked with the verdict, instead of being
// cancelled: an early-stopped trial is a result of the sweep, not a failure,
// so its parent still finishes and a retry of the sweep does not train it
// again.
#ifndef DREAMSHOT_SERVICES_EARLY_STOP_REQUESTS_H_
#define DREAMSHOT_SERVICES_EARLY_STOP_REQUESTS_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace dreamshot::services {

// The run tag of a training run finished early: the verdict that stopped it.
inline constexpr char kEarlyStopTag[] = "dreamshot.early_stop";

class EarlyStopRequests {
 public:
  // The first verdict for a job stands.
  void Request(int64_t job_id, std::string verdict) {
    std::lock_guard<std::mutex> lock(mu_);
    verdicts_.emplace(job_id, std::move(verdict));
  }

  // The verdict for `job_id`, once (nullopt when none was requested).
  std::optional<std::string> Take(int64_t job_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verdicts_.find(job_id);
    if (it == verdicts_.end()) return std::nullopt;
    std::string verdict = std::move(it->second);
    verdicts_.erase(it);
    return verdict;
  }

 private:
  std::mutex mu_;
  std::map<int64_t, std::string> verdicts_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_EARLY_STOP_REQUESTS_H_

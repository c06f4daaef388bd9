#include "core/device_queues.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace dreamshot::core {

WorkQueue& DeviceQueues::For(const std::string& device) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<WorkQueue>& queue = queues_[device];
  if (!queue) {
    queue = std::make_unique<WorkQueue>(absl::StrCat("the ", device, " queue"), capacity_);
    if (shut_down_) queue->Shutdown();  // refuses what is submitted
  }
  return *queue;
}

void DeviceQueues::Shutdown() {
  std::vector<WorkQueue*> queues;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
    for (auto& [device, queue] : queues_) queues.push_back(queue.get());
  }
  // Outside the lock: a finishing job may still look a queue up.
  for (WorkQueue* queue : queues) queue->Shutdown();
}

}  // namespace dreamshot::core

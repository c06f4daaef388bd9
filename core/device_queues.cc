#include "core/device_queues.h"

#include "absl/strings/str_cat.h"

namespace dreamshot::core {

WorkQueue& DeviceQueues::For(const std::string& device) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<WorkQueue>& queue = queues_[device];
  if (!queue) queue = std::make_unique<WorkQueue>(absl::StrCat("the ", device, " queue"), capacity_);
  return *queue;
}

}  // namespace dreamshot::core

// One WorkQueue per device, made on first use: jobs for one GPU (or the
// CPU) run one at a time in submission order, jobs for different devices
// run side by side. Generation and training share it, so a training run
// and a generation request never fight over one device's memory.
#ifndef DREAMSHOT_CORE_DEVICE_QUEUES_H_
#define DREAMSHOT_CORE_DEVICE_QUEUES_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/work_queue.h"

namespace dreamshot::core {

class DeviceQueues {
 public:
  // `capacity`: jobs waiting or running per device.
  explicit DeviceQueues(int capacity) : capacity_(capacity) {}

  // `device`: c10's name ("cpu", "cuda:0").
  WorkQueue& For(const std::string& device);
  // Shuts every queue down (WorkQueue::Shutdown), and any made later: when
  // this returns no job is running and every job's completion has run.
  void Shutdown();

 private:
  const int capacity_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<WorkQueue>> queues_;
  bool shut_down_ = false;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_DEVICE_QUEUES_H_

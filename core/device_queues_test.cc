#include "core/device_queues.h"

#include <gtest/gtest.h>

namespace dreamshot::core {
namespace {

TEST(DeviceQueuesTest, OneQueuePerDeviceWithTheGivenCapacity) {
  DeviceQueues queues(1);
  EXPECT_EQ(&queues.For("cpu"), &queues.For("cpu"));
  EXPECT_NE(&queues.For("cpu"), &queues.For("cuda:0"));
  // A job holding the CPU queue does not block the GPU's.
  std::atomic<bool> release{false};
  auto blocker = queues.For("cpu").Submit([&](const CancelFlag&) {
    while (!release.load()) std::this_thread::yield();
    return absl::OkStatus();
  });
  ASSERT_TRUE(blocker.ok());
  auto refused = queues.For("cpu").Submit([](const CancelFlag&) { return absl::OkStatus(); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("the cpu queue is full"), std::string::npos);
  auto other = queues.For("cuda:0").Submit([](const CancelFlag&) { return absl::OkStatus(); });
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->Wait().ok());
  release = true;
  EXPECT_TRUE((*blocker)->Wait().ok());
}

}  // namespace
}  // namespace dreamshot::core

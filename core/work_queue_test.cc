#include "core/work_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace dreamshot::core {
namespace {

using namespace std::chrono_literals;

// A job that runs until released (or cancelled).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  }
  WorkQueue::Job Job(std::atomic<int>* started) {
    return [this, started](const CancelFlag& flag) {
      ++*started;
      std::unique_lock<std::mutex> lock(mu);
      while (!open) {
        if (flag.cancelled()) return absl::CancelledError("stopped between steps");
        cv.wait_for(lock, 5ms);
      }
      return absl::OkStatus();
    };
  }
};

TEST(WorkQueueTest, RunsJobsInOrderOneAtATime) {
  WorkQueue queue("cpu queue", 8);
  std::vector<int> order;
  std::mutex mu;
  std::vector<std::shared_ptr<JobHandle>> handles;
  for (int i = 0; i < 5; ++i) {
    handles.push_back(*queue.Submit([&, i](const CancelFlag&) {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
      return absl::OkStatus();
    }));
  }
  for (auto& h : handles) EXPECT_TRUE(h->Wait().ok());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(WorkQueueTest, RefusesPastCapacityWithResourceExhausted) {
  WorkQueue queue("cuda:0 queue", 2);
  Gate gate;
  std::atomic<int> started{0};
  auto first = queue.Submit(gate.Job(&started));
  auto second = queue.Submit(gate.Job(&started));
  ASSERT_TRUE(first.ok() && second.ok());
  auto third = queue.Submit(gate.Job(&started));
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("cuda:0 queue is full: 2 jobs"), std::string::npos) << third.status();
  gate.Open();
  EXPECT_TRUE((*first)->Wait().ok());
  EXPECT_TRUE((*second)->Wait().ok());
  EXPECT_TRUE(queue.Submit(gate.Job(&started)).ok());  // room again
}

TEST(WorkQueueTest, CancelStopsTheRunningJobAndSkipsAQueuedOne) {
  WorkQueue queue("cpu queue", 4);
  Gate gate;
  std::atomic<int> started{0};
  auto running = *queue.Submit(gate.Job(&started));
  auto waiting = *queue.Submit(gate.Job(&started));
  while (started.load() == 0) std::this_thread::sleep_for(1ms);
  waiting->Cancel();
  running->Cancel();
  EXPECT_EQ(running->Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(waiting->Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(started.load(), 1);  // the queued job never ran
  EXPECT_EQ(queue.load(), 0);
}

TEST(WorkQueueTest, QueueCancelDropsAWaitingJobAtOnceAndReportsDone) {
  WorkQueue queue("cpu queue", 4);
  Gate gate;
  std::atomic<int> started{0};
  std::mutex mu;
  std::vector<absl::StatusCode> done;
  auto record = [&](const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    done.push_back(s.code());
  };
  auto running = *queue.Submit(gate.Job(&started), record);
  auto waiting = *queue.Submit(gate.Job(&started), record);
  while (started.load() == 0) std::this_thread::sleep_for(1ms);
  queue.Cancel(waiting);
  // Finished while the first job still runs, not when its turn comes.
  EXPECT_TRUE(waiting->done());
  EXPECT_EQ(waiting->Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(queue.load(), 1);
  gate.Open();
  EXPECT_TRUE(running->Wait().ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(done, (std::vector<absl::StatusCode>{absl::StatusCode::kCancelled, absl::StatusCode::kOk}));
  EXPECT_EQ(started.load(), 1);
}

TEST(WorkQueueTest, AThrowingJobFailsAloneAndTheQueueGoesOn) {
  WorkQueue queue("cpu queue", 4);
  auto thrower = *queue.Submit([](const CancelFlag&) -> absl::Status { throw std::out_of_range("index 1000"); });
  auto next = *queue.Submit([](const CancelFlag&) { return absl::OkStatus(); });
  const absl::Status status = thrower->Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("index 1000"), std::string::npos);
  EXPECT_TRUE(next->Wait().ok());
}

TEST(WorkQueueTest, DestructionCancelsWhatIsLeft) {
  std::shared_ptr<JobHandle> running, waiting;
  Gate gate;
  std::atomic<int> started{0};
  {
    WorkQueue queue("cpu queue", 4);
    running = *queue.Submit(gate.Job(&started));
    waiting = *queue.Submit(gate.Job(&started));
    while (started.load() == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(running->Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(waiting->Wait().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace dreamshot::core

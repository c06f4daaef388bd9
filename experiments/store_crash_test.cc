// A writer killed (SIGKILL) in the middle of metric batches leaves the store
// consistent: every batch is there completely or not at all, and the
// per-run summaries agree with the histories.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

constexpr int kBatch = 20000;

TEST(StoreCrashTest, KilledWriterLeavesWholeBatchesOnly) {
  const std::string path = std::string(::testing::TempDir()) + "/crash-" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  int64_t run_id = 0;
  {
    auto store = ExperimentStore::Open(path);
    ASSERT_TRUE(store.ok());
    auto e = (*store)->CreateExperiment("crash", "", {});
    NewRun r;
    r.experiment_id = e->id;
    run_id = (*store)->CreateRun(r)->id;
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = ExperimentStore::Open(path);
    if (!store.ok()) ::_exit(1);
    std::vector<MetricPoint> points(kBatch);
    for (int64_t b = 0;; ++b) {
      for (int i = 0; i < kBatch; ++i) points[i] = {"loss", b * kBatch + i, 0.5, 0};
      if (!(*store)->LogMetrics(run_id, points).ok()) ::_exit(2);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own with status " << status;

  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
  }
  auto store = ExperimentStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto run = (*store)->GetRun(run_id);
  ASSERT_TRUE(run.ok());
  auto history = (*store)->GetMetricHistory(run_id, "loss");
  ASSERT_TRUE(history.ok()) << "no batch committed in 700 ms: " << history.status();
  EXPECT_EQ(history->size() % kBatch, 0u) << "a batch was half-written";
  ASSERT_EQ(run->metrics.size(), 1u);
  EXPECT_EQ(run->metrics[0].count, static_cast<int64_t>(history->size()));
  EXPECT_EQ(run->metrics[0].step, static_cast<int64_t>(history->size()) - 1);
}

}  // namespace
}  // namespace dreamshot::experiments

// Many writers at once lose nothing: every metric point arrives exactly once,
// including when batches are retried with their request id.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

TEST(StoreConcurrencyTest, ConcurrentWritersLoseNothing) {
  const std::string path = std::string(::testing::TempDir()) + "/concurrent-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  auto opened = ExperimentStore::Open(path);
  ASSERT_TRUE(opened.ok());
  ExperimentStore& store = **opened;
  auto experiment = store.CreateExperiment("hammer", "", {});
  ASSERT_TRUE(experiment.ok());

  constexpr int kThreads = 8;
  constexpr int kBatches = 40;
  constexpr int kPointsPerBatch = 50;
  std::vector<int64_t> run_ids;
  for (int t = 0; t < kThreads / 2; ++t) {
    NewRun r;
    r.experiment_id = experiment->id;
    run_ids.push_back(store.CreateRun(r)->id);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const int64_t run_id = run_ids[t % run_ids.size()];
      for (int b = 0; b < kBatches; ++b) {
        std::vector<MetricPoint> points;
        for (int i = 0; i < kPointsPerBatch; ++i) {
          points.push_back({"loss/t" + std::to_string(t), b * kPointsPerBatch + i, 1.0 * i, 0});
        }
        const std::string request_id = "t" + std::to_string(t) + "-b" + std::to_string(b);
        if (!store.LogMetrics(run_id, points, request_id).ok()) ++failures;
        // Every third batch is "retried", as a client would after a timeout.
        if (b % 3 == 0 && !store.LogMetrics(run_id, points, request_id).ok()) ++failures;
        // Readers run alongside the writers.
        if (!store.GetRun(run_id).ok()) ++failures;
        RunQuery q;
        q.filter = "metrics.`loss/t" + std::to_string(t) + "` >= 0";
        if (!store.SearchRuns(q).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  for (int t = 0; t < kThreads; ++t) {
    const int64_t run_id = run_ids[t % run_ids.size()];
    auto history = store.GetMetricHistory(run_id, "loss/t" + std::to_string(t));
    ASSERT_TRUE(history.ok()) << history.status();
    ASSERT_EQ(history->size(), static_cast<size_t>(kBatches * kPointsPerBatch)) << "thread " << t;
    std::set<int64_t> steps;
    for (const auto& p : *history) steps.insert(p.step);
    EXPECT_EQ(steps.size(), history->size()) << "a point arrived twice for thread " << t;
    auto run = store.GetRun(run_id);
    for (const auto& m : run->metrics) {
      if (m.key == "loss/t" + std::to_string(t)) {
        EXPECT_EQ(m.count, kBatches * kPointsPerBatch);
        EXPECT_EQ(m.step, kBatches * kPointsPerBatch - 1);
      }
    }
  }
}

TEST(StoreConcurrencyTest, TwoStoreObjectsOnOneFileShareData) {
  // Two processes (here: two store objects) writing one WAL database.
  const std::string path = std::string(::testing::TempDir()) + "/shared-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  auto a = ExperimentStore::Open(path);
  auto b = ExperimentStore::Open(path);
  ASSERT_TRUE(a.ok() && b.ok());
  auto e = (*a)->CreateExperiment("shared", "", {});
  NewRun r;
  r.experiment_id = e->id;
  const int64_t run_id = (*a)->CreateRun(r)->id;
  std::thread ta([&] {
    for (int i = 0; i < 200; ++i) ASSERT_TRUE((*a)->LogMetrics(run_id, {{"a", i, 1, 0}}).ok());
  });
  std::thread tb([&] {
    for (int i = 0; i < 200; ++i) ASSERT_TRUE((*b)->LogMetrics(run_id, {{"b", i, 1, 0}}).ok());
  });
  ta.join();
  tb.join();
  EXPECT_EQ((*a)->GetMetricHistory(run_id, "b")->size(), 200u);
  EXPECT_EQ((*b)->GetMetricHistory(run_id, "a")->size(), 200u);
}

}  // namespace
}  // namespace dreamshot::experiments

// Many gRPC clients (own channels, own threads) log metrics into one server at
// once, with retries; every point must arrive exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

TEST(ConcurrentClientsTest, EveryPointArrivesExactlyOnce) {
  auto server = testing::StartServer(testing::FreshDataDir("clients"));
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 12;
  constexpr int kBatches = 25;
  constexpr int kPoints = 40;

  auto admin = v1::ExperimentService::NewStub(testing::ChannelTo(*server));
  {
    grpc::ClientContext ctx;
    v1::CreateExperimentRequest req;
    req.set_name("load");
    v1::Experiment e;
    ASSERT_TRUE(admin->CreateExperiment(&ctx, req, &e).ok());
  }
  std::vector<int64_t> runs;
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    v1::CreateRunRequest req;
    req.set_experiment_name("load");
    v1::Run run;
    ASSERT_TRUE(admin->CreateRun(&ctx, req, &run).ok());
    runs.push_back(run.id());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = v1::ExperimentService::NewStub(testing::ChannelTo(*server));
      for (int b = 0; b < kBatches; ++b) {
        v1::LogMetricsRequest req;
        req.set_run_id(runs[c % runs.size()]);
        req.set_request_id("client" + std::to_string(c) + "-batch" + std::to_string(b));
        for (int i = 0; i < kPoints; ++i) {
          v1::MetricPoint* p = req.add_points();
          p->set_key("client" + std::to_string(c));
          p->set_step(b * kPoints + i);
          p->set_value(i);
        }
        // Every batch is sent twice, as after a lost response.
        for (int attempt = 0; attempt < 2; ++attempt) {
          grpc::ClientContext ctx;
          v1::LogMetricsResponse resp;
          if (!stub->LogMetrics(&ctx, req, &resp).ok()) ++failures;
          if (attempt == 1 && !resp.duplicate_request()) ++failures;
        }
        if (b % 5 == 0) {
          grpc::ClientContext ctx;
          v1::SearchRunsRequest search;
          search.set_filter("metrics.client" + std::to_string(c) + " >= 0");
          v1::SearchRunsResponse found;
          if (!stub->SearchRuns(&ctx, search, &found).ok()) ++failures;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int c = 0; c < kClients; ++c) {
    grpc::ClientContext ctx;
    v1::GetMetricHistoryRequest req;
    req.set_run_id(runs[c % runs.size()]);
    req.set_key("client" + std::to_string(c));
    v1::GetMetricHistoryResponse resp;
    ASSERT_TRUE(admin->GetMetricHistory(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.points_size(), kBatches * kPoints) << "client " << c;
    std::set<int64_t> steps;
    for (const auto& p : resp.points()) steps.insert(p.step());
    EXPECT_EQ(steps.size(), static_cast<size_t>(kBatches * kPoints)) << "client " << c;
  }
}

}  // namespace
}  // namespace dreamshot

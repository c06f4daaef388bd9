// ExperimentService end to end: a real server on a loopback port, the
// generated client stub, every RPC, its error statuses, and a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::dreamshot::v1;

class ExperimentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("experiment-service");
    server_ = testing::StartServer(data_dir_);
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
  }

  v1::Experiment CreateExperiment(const std::string& name) {
    grpc::ClientContext ctx;
    v1::CreateExperimentRequest req;
    req.set_name(name);
    v1::Experiment e;
    EXPECT_TRUE(stub_->CreateExperiment(&ctx, req, &e).ok());
    return e;
  }

  v1::Run CreateRun(const std::string& experiment, std::map<std::string, std::string> params) {
    grpc::ClientContext ctx;
    v1::CreateRunRequest req;
    req.set_experiment_name(experiment);
    for (const auto& [k, v] : params) {
      v1::Param* p = req.add_params();
      p->set_key(k);
      p->set_value(v);
    }
    v1::Run run;
    grpc::Status s = stub_->CreateRun(&ctx, req, &run);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return run;
  }

  grpc::Status Log(int64_t run_id, const std::string& key, std::vector<double> values,
                   const std::string& request_id = "") {
    grpc::ClientContext ctx;
    v1::LogMetricsRequest req;
    req.set_run_id(run_id);
    req.set_request_id(request_id);
    for (size_t i = 0; i < values.size(); ++i) {
      v1::MetricPoint* p = req.add_points();
      p->set_key(key);
      p->set_step(static_cast<int64_t>(i));
      p->set_value(values[i]);
    }
    v1::LogMetricsResponse resp;
    return stub_->LogMetrics(&ctx, req, &resp);
  }

  std::string data_dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::ExperimentService::Stub> stub_;
};

TEST_F(ExperimentServiceTest, ExperimentsCreateGetListAndDuplicate) {
  v1::Experiment e = CreateExperiment("shots");
  EXPECT_GT(e.id(), 0);
  grpc::ClientContext dup_ctx;
  v1::CreateExperimentRequest dup;
  dup.set_name("shots");
  v1::Experiment ignored;
  grpc::Status s = stub_->CreateExperiment(&dup_ctx, dup, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("'shots' already exists"));

  grpc::ClientContext get_ctx;
  v1::GetExperimentRequest get;
  get.set_name("shots");
  v1::Experiment got;
  ASSERT_TRUE(stub_->GetExperiment(&get_ctx, get, &got).ok());
  EXPECT_EQ(got.id(), e.id());

  grpc::ClientContext missing_ctx;
  v1::GetExperimentRequest missing;
  missing.set_id(999);
  EXPECT_EQ(stub_->GetExperiment(&missing_ctx, missing, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext list_ctx;
  v1::ListExperimentsResponse list;
  ASSERT_TRUE(stub_->ListExperiments(&list_ctx, {}, &list).ok());
  ASSERT_EQ(list.experiments_size(), 1);
}

TEST_F(ExperimentServiceTest, RunLifecycleParamsTagsAndConfig) {
  CreateExperiment("shots");
  grpc::ClientContext ctx;
  v1::CreateRunRequest req;
  req.set_experiment_name("shots");
  req.set_name("rank8");
  v1::SearchRunsRequest config;  // any known message serves as a config here
  config.set_filter("lora");
  config.set_page_size(8);
  req.mutable_config()->PackFrom(config);
  (*req.mutable_tags())["shot"] = "close";
  v1::Run run;
  ASSERT_TRUE(stub_->CreateRun(&ctx, req, &run).ok());
  EXPECT_EQ(run.status(), v1::RUNNING);
  EXPECT_EQ(run.config_type(), "dreamshot.v1.SearchRunsRequest");
  ASSERT_EQ(run.params_size(), 2);
  EXPECT_EQ(run.params(0).key(), "filter");
  EXPECT_EQ(run.params(1).key(), "page_size");
  EXPECT_EQ(run.params(1).value(), "8");

  grpc::ClientContext p_ctx;
  v1::LogParamsRequest params;
  params.set_run_id(run.id());
  auto* p = params.add_params();
  p->set_key("page_size");
  p->set_value("9");
  v1::LogParamsResponse p_resp;
  grpc::Status s = stub_->LogParams(&p_ctx, params, &p_resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("write-once"));

  grpc::ClientContext t_ctx;
  v1::SetTagsRequest tags;
  tags.set_run_id(run.id());
  (*tags.mutable_set())["keep"] = "yes";
  tags.add_remove("shot");
  v1::Run tagged;
  ASSERT_TRUE(stub_->SetTags(&t_ctx, tags, &tagged).ok());
  EXPECT_EQ(tagged.tags().size(), 1u);
  EXPECT_EQ(tagged.tags().at("keep"), "yes");

  grpc::ClientContext u_ctx;
  v1::UpdateRunRequest update;
  update.set_run_id(run.id());
  update.set_status(v1::FINISHED);
  update.set_set_notes(true);
  update.set_notes("converged");
  v1::Run finished;
  ASSERT_TRUE(stub_->UpdateRun(&u_ctx, update, &finished).ok());
  EXPECT_EQ(finished.status(), v1::FINISHED);
  EXPECT_GT(finished.end_ms(), 0);

  grpc::ClientContext again_ctx;
  update.set_status(v1::RUNNING);
  s = stub_->UpdateRun(&again_ctx, update, &finished);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  grpc::ClientContext g_ctx;
  v1::GetRunRequest get;
  get.set_run_id(run.id() + 100);
  s = stub_->GetRun(&g_ctx, get, &finished);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr(std::to_string(run.id() + 100)));
}

TEST_F(ExperimentServiceTest, UnknownConfigTypeIsRejectedAndNothingStored) {
  CreateExperiment("shots");
  grpc::ClientContext ctx;
  v1::CreateRunRequest req;
  req.set_experiment_name("shots");
  req.mutable_config()->set_type_url("type.googleapis.com/acme.Unknown");
  v1::Run run;
  grpc::Status s = stub_->CreateRun(&ctx, req, &run);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext list_ctx;
  v1::SearchRunsResponse found;
  ASSERT_TRUE(stub_->SearchRuns(&list_ctx, {}, &found).ok());
  EXPECT_EQ(found.runs_size(), 0);
}

TEST_F(ExperimentServiceTest, MetricsHistoryDownsamplingAndIdempotentRetry) {
  CreateExperiment("shots");
  v1::Run run = CreateRun("shots", {});
  std::vector<double> values(1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(i * 0.05);
  ASSERT_TRUE(Log(run.id(), "loss", values, "batch-1").ok());
  ASSERT_TRUE(Log(run.id(), "loss", values, "batch-1").ok());  // a retry

  grpc::ClientContext ctx;
  v1::GetMetricHistoryRequest req;
  req.set_run_id(run.id());
  req.set_key("loss");
  req.set_max_points(100);
  v1::GetMetricHistoryResponse resp;
  ASSERT_TRUE(stub_->GetMetricHistory(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.total_points(), 1000);
  EXPECT_EQ(resp.points_size(), 100);
  EXPECT_EQ(resp.points(0).step(), 0);
  EXPECT_EQ(resp.points(99).step(), 999);

  grpc::ClientContext all_ctx;
  req.set_max_points(0);
  ASSERT_TRUE(stub_->GetMetricHistory(&all_ctx, req, &resp).ok());
  EXPECT_EQ(resp.points_size(), 1000);

  EXPECT_EQ(Log(run.id() + 7, "loss", {1.0}).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Log(0, "loss", {1.0}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Log(run.id(), "", {1.0}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ExperimentServiceTest, OversizedRequestIsRejected) {
  CreateExperiment("shots");
  v1::Run run = CreateRun("shots", {});
  grpc::ClientContext ctx;
  v1::LogArtifactRequest req;
  req.set_run_id(run.id());
  req.set_kind("checkpoint");
  req.set_path("big.bin");
  req.set_content(std::string(5 << 20, 'x'));  // server limit in this test: 4 MiB
  v1::ArtifactRef ref;
  grpc::Status s = stub_->LogArtifact(&ctx, req, &ref);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  grpc::ClientContext list_ctx;
  v1::ListArtifactsRequest list;
  list.set_run_id(run.id());
  v1::ListArtifactsResponse artifacts;
  ASSERT_TRUE(stub_->ListArtifacts(&list_ctx, list, &artifacts).ok());
  EXPECT_EQ(artifacts.artifacts_size(), 0);
}

TEST_F(ExperimentServiceTest, ArtifactsUploadAndList) {
  CreateExperiment("shots");
  v1::Run run = CreateRun("shots", {});
  grpc::ClientContext ctx;
  v1::LogArtifactRequest req;
  req.set_run_id(run.id());
  req.set_kind("image");
  req.set_path("samples/0.png");
  req.set_content("abc");
  v1::ArtifactRef ref;
  ASSERT_TRUE(stub_->LogArtifact(&ctx, req, &ref).ok());
  EXPECT_EQ(ref.sha256(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ref.size_bytes(), 3);
  EXPECT_THAT(ref.uri(), HasSubstr("/artifacts/ba/ba7816bf"));

  grpc::ClientContext dup_ctx;
  EXPECT_EQ(stub_->LogArtifact(&dup_ctx, req, &ref).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  grpc::ClientContext none_ctx;
  req.clear_content();
  req.set_path("other");
  EXPECT_EQ(stub_->LogArtifact(&none_ctx, req, &ref).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext missing_ctx;
  req.set_server_path("/definitely/not/here.bin");
  EXPECT_EQ(stub_->LogArtifact(&missing_ctx, req, &ref).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext list_ctx;
  v1::ListArtifactsRequest list;
  list.set_run_id(run.id());
  v1::ListArtifactsResponse artifacts;
  ASSERT_TRUE(stub_->ListArtifacts(&list_ctx, list, &artifacts).ok());
  ASSERT_EQ(artifacts.artifacts_size(), 1);
  EXPECT_EQ(artifacts.artifacts(0).path(), "samples/0.png");
}

TEST_F(ExperimentServiceTest, SearchCompareAndAggregate) {
  v1::Experiment e = CreateExperiment("sweep");
  std::vector<int64_t> ids;
  const double clip[2][3] = {{0.320, 0.322, 0.324}, {0.330, 0.331, 0.332}};
  for (int rank = 0; rank < 2; ++rank) {
    for (int seed = 0; seed < 3; ++seed) {
      v1::Run run = CreateRun("sweep", {{"lora_rank", rank ? "16" : "8"}, {"seed", std::to_string(seed)}});
      ASSERT_TRUE(Log(run.id(), "clip_t", {0.1, clip[rank][seed]}).ok());
      ids.push_back(run.id());
    }
  }
  grpc::ClientContext ctx;
  v1::SearchRunsRequest search;
  search.add_experiment_ids(e.id());
  search.set_filter("params.lora_rank = 16 and not params.seed = 1");
  search.set_order_by("metrics.clip_t desc");
  v1::SearchRunsResponse found;
  ASSERT_TRUE(stub_->SearchRuns(&ctx, search, &found).ok());
  ASSERT_EQ(found.runs_size(), 2);
  EXPECT_EQ(found.runs(0).id(), ids[5]);
  EXPECT_EQ(found.runs(1).id(), ids[3]);

  grpc::ClientContext bad_ctx;
  search.set_filter("params.lora_rank = ");
  grpc::Status s = stub_->SearchRuns(&bad_ctx, search, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("column"));

  grpc::ClientContext cmp_ctx;
  v1::CompareRunsRequest compare;
  compare.add_run_ids(ids[0]);
  compare.add_run_ids(ids[4]);
  v1::CompareRunsResponse table;
  ASSERT_TRUE(stub_->CompareRuns(&cmp_ctx, compare, &table).ok());
  ASSERT_EQ(table.params_size(), 2);
  EXPECT_EQ(table.params(0).key(), "lora_rank");
  EXPECT_TRUE(table.params(0).differs());
  ASSERT_EQ(table.metrics_size(), 1);
  EXPECT_DOUBLE_EQ(table.metrics(0).cells(1).last(), 0.331);
  EXPECT_DOUBLE_EQ(table.metrics(0).cells(1).min(), 0.1);
  EXPECT_EQ(table.metrics(0).cells(1).count(), 2);

  grpc::ClientContext one_ctx;
  v1::CompareRunsRequest one;
  one.add_run_ids(ids[0]);
  EXPECT_EQ(stub_->CompareRuns(&one_ctx, one, &table).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext agg_ctx;
  v1::AggregateRunsRequest aggregate;
  aggregate.add_experiment_ids(e.id());
  v1::AggregateRunsResponse groups;
  ASSERT_TRUE(stub_->AggregateRuns(&agg_ctx, aggregate, &groups).ok());
  ASSERT_EQ(groups.groups_size(), 2);
  const v1::RunGroup& g16 = groups.groups(1);  // groups ordered 8 < 16
  EXPECT_EQ(g16.params(0).value(), "16");
  EXPECT_EQ(g16.run_ids_size(), 3);
  EXPECT_NEAR(g16.metrics(0).mean(), 0.331, 1e-12);
  EXPECT_LT(g16.metrics(0).ci_low(), 0.331);
  EXPECT_GT(g16.metrics(0).ci_high(), 0.331);
  EXPECT_DOUBLE_EQ(groups.confidence(), 0.95);
}

TEST_F(ExperimentServiceTest, WatchStreamsNewPointsUntilTheRunEnds) {
  CreateExperiment("shots");
  v1::Run run = CreateRun("shots", {});
  ASSERT_TRUE(Log(run.id(), "loss", {9.0}).ok());  // before the watch: not sent

  grpc::ClientContext ctx;
  v1::WatchMetricsRequest req;
  req.set_run_id(run.id());
  auto reader = stub_->WatchMetrics(&ctx, req);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int i = 0; i < 5; ++i) {
      grpc::ClientContext c;
      v1::LogMetricsRequest r;
      r.set_run_id(run.id());
      auto* p = r.add_points();
      p->set_key("loss");
      p->set_step(10 + i);
      p->set_value(1.0 / (i + 1));
      v1::LogMetricsResponse resp;
      ASSERT_TRUE(stub_->LogMetrics(&c, r, &resp).ok());
    }
    grpc::ClientContext c;
    v1::UpdateRunRequest end;
    end.set_run_id(run.id());
    end.set_status(v1::FINISHED);
    v1::Run done;
    ASSERT_TRUE(stub_->UpdateRun(&c, end, &done).ok());
  });
  std::vector<int64_t> steps;
  v1::WatchMetricsResponse message;
  v1::RunStatus last_status = v1::RUN_STATUS_UNSPECIFIED;
  while (reader->Read(&message)) {
    for (const auto& p : message.points()) steps.push_back(p.step());
    last_status = message.status();
  }
  grpc::Status status = reader->Finish();
  writer.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(steps, (std::vector<int64_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(last_status, v1::FINISHED);
}

TEST_F(ExperimentServiceTest, WatchOfUnknownRunIsNotFoundAndCancelWorks) {
  grpc::ClientContext ctx;
  v1::WatchMetricsRequest req;
  req.set_run_id(4242);
  auto reader = stub_->WatchMetrics(&ctx, req);
  v1::WatchMetricsResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  CreateExperiment("shots");
  v1::Run run = CreateRun("shots", {});
  grpc::ClientContext cancel_ctx;
  req.set_run_id(run.id());
  auto live = stub_->WatchMetrics(&cancel_ctx, req);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cancel_ctx.TryCancel();
  while (live->Read(&message)) {
  }
  EXPECT_EQ(live->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ExperimentServiceTest, RestartFailsRunsTheDeadServerLeftRunningAndLeavesClientsRunsAlone) {
  CreateExperiment("shots");
  // A client's run (a training script logging through the API): the
  // server's restart is not its end.
  v1::Run client = CreateRun("shots", {});
  ASSERT_TRUE(Log(client.id(), "loss", {0.4}).ok());
  // A run the server made for a job of its own (as pool builds are tagged).
  v1::Run active;
  {
    grpc::ClientContext ctx;
    v1::CreateRunRequest req;
    req.set_experiment_name("shots");
    (*req.mutable_tags())["dreamshot.kind"] = "generate";
    ASSERT_TRUE(stub_->CreateRun(&ctx, req, &active).ok());
  }
  ASSERT_TRUE(Log(active.id(), "loss", {0.5}).ok());
  // A second server on the same store is refused while the first holds it.
  services::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.data_dir = data_dir_;
  auto second = services::DreamshotServer::Start(options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);

  stub_.reset();
  server_.reset();  // the "crash": runs are still marked running in the file
  server_ = testing::StartServer(data_dir_);
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(server_->recovered_runs(), 1);
  stub_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
  grpc::ClientContext ctx;
  v1::GetRunRequest get;
  get.set_run_id(active.id());
  v1::Run run;
  ASSERT_TRUE(stub_->GetRun(&ctx, get, &run).ok());
  EXPECT_EQ(run.status(), v1::FAILED);
  EXPECT_THAT(run.notes(), HasSubstr("server stopped"));
  ASSERT_EQ(run.metrics_size(), 1);  // nothing that was stored is lost
  const v1::Run still = testing::GetRun(*stub_, client.id());
  EXPECT_EQ(still.status(), v1::RUNNING);
  EXPECT_EQ(still.notes(), "");
  EXPECT_EQ(still.metrics_size(), 1);
}

}  // namespace
}  // namespace dreamshot

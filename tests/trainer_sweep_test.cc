// TrainerService sweeps through gRPC on the tiny reference model: a 2 × 2
// sweep runs one child at a time (max_concurrent 1 on a lane with two
// workers), its parent run is the parent of the child runs, SweepStatus
// shows the grid, and retrying the parent runs again only the child that
// was cancelled; the early-stop rule cancels children at step S naming the
// rule; bad sweeps are refused with nothing stored.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/testdata_paths.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/job.grpc.pb.h"
#include "dreamshot/v1/trainer.grpc.pb.h"
#include "tests/service_test_util.h"
#include "tests/training_images.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TrainerSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshDataDir("sweep");
    server_ = testing::StartServer(dir_, "", [](services::ServerOptions& o) { o.jobs_per_device = 2; });
    ASSERT_NE(server_, nullptr);
    auto channel = testing::ChannelTo(*server_);
    trainer_ = v1::TrainerService::NewStub(channel);
    jobs_ = v1::JobService::NewStub(channel);
    experiments_ = v1::ExperimentService::NewStub(channel);
    testing::WriteTrainingImages(dir_);
  }

  v1::LaunchSweepRequest Request(int steps) {
    v1::LaunchSweepRequest request;
    v1::TrainConfig* c = request.mutable_base();
    c->set_base_model(core::ReferencePath("tiny_sd"));
    c->set_instance_dir(dir_ + "/instance");
    c->set_class_dir(dir_ + "/class");
    c->set_shot_scale("close");
    c->set_resolution(32);
    c->set_max_train_steps(steps);
    c->set_checkpointing_steps(2);
    c->set_seed(1);
    request.mutable_target()->set_experiment("sweeps");
    return request;
  }

  static void AddDimension(v1::LaunchSweepRequest* request, const std::string& field,
                           const std::vector<std::string>& values) {
    v1::SweepDimension* d = request->mutable_spec()->add_dimensions();
    d->set_field(field);
    for (const std::string& v : values) d->add_values(v);
  }

  grpc::Status Launch(const v1::LaunchSweepRequest& request, v1::LaunchSweepResponse* response) {
    grpc::ClientContext context;
    return trainer_->LaunchSweep(&context, request, response);
  }

  grpc::Status Status(int64_t id, v1::SweepStatusResponse* response) {
    grpc::ClientContext context;
    v1::SweepStatusRequest request;
    request.set_job_id(id);
    return trainer_->SweepStatus(&context, request, response);
  }

  // Watches a job (a group: its state) to its end.
  v1::Job Watch(int64_t id) {
    grpc::ClientContext context;
    v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = jobs_->WatchJob(&context, request);
    v1::JobEvent event;
    v1::Job last;
    while (reader->Read(&event)) {
      if (event.has_job()) last = event.job();
    }
    EXPECT_TRUE(reader->Finish().ok());
    return last;
  }

  int64_t CountJobs() {
    grpc::ClientContext context;
    v1::ListJobsRequest request;
    request.set_page_size(1000);
    v1::ListJobsResponse response;
    EXPECT_TRUE(jobs_->ListJobs(&context, request, &response).ok());
    return response.jobs_size();
  }

  std::string dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::TrainerService::Stub> trainer_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
};

TEST_F(TrainerSweepTest, A2x2SweepRunsOneChildAtATimeAndRetryingItRunsOnlyTheCancelledChild) {
  v1::LaunchSweepRequest request = Request(4);
  AddDimension(&request, "rank", {"2", "4"});
  AddDimension(&request, "learning_rate", {"1e-2", "5e-3"});
  request.mutable_spec()->set_max_concurrent(1);
  v1::LaunchSweepResponse launched;
  grpc::Status status = Launch(request, &launched);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(launched.children_size(), 4);
  std::vector<std::string> names;
  for (const v1::SweepChild& c : launched.children()) names.push_back(c.name());
  EXPECT_THAT(names, ElementsAre("rank=2 lr=0.01", "rank=2 lr=0.005", "rank=4 lr=0.01", "rank=4 lr=0.005"));
  EXPECT_GT(launched.parent_run_id(), 0);

  // The last child leaves while it waits its turn.
  const int64_t cancelled = launched.children(3).job_id();
  {
    grpc::ClientContext context;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(cancelled);
    v1::Job job;
    ASSERT_TRUE(jobs_->CancelJob(&context, cancel, &job).ok());
  }
  const v1::Job parent = Watch(launched.parent_job_id());
  EXPECT_EQ(parent.state(), v1::JOB_FAILED);
  EXPECT_EQ(parent.error(), "1 of 4 jobs did not finish");

  v1::SweepStatusResponse grid;
  ASSERT_TRUE(Status(launched.parent_job_id(), &grid).ok());
  EXPECT_THAT(grid.dimensions(), ElementsAre("rank", "learning_rate"));
  ASSERT_EQ(grid.children_size(), 4);
  for (int i = 0; i < 3; ++i) {
    const v1::SweepChild& c = grid.children(i);
    EXPECT_EQ(c.state(), v1::JOB_FINISHED) << c.name() << ": " << c.error();
    EXPECT_EQ(c.step(), 4);
    EXPECT_EQ(c.max_steps(), 4);
    EXPECT_TRUE(c.has_loss());
    EXPECT_GT(c.run_id(), 0);
    const v1::Run run = testing::GetRun(*experiments_, c.run_id());
    EXPECT_EQ(run.parent_run_id(), launched.parent_run_id());
    EXPECT_EQ(run.name(), c.name());
  }
  EXPECT_EQ(grid.children(2).values(0).value(), "4");
  EXPECT_EQ(grid.children(2).values(1).value(), "0.01");
  EXPECT_EQ(grid.children(3).state(), v1::JOB_CANCELLED);
  EXPECT_FALSE(grid.children(3).has_loss());
  // One at a time, though the lane has two workers.
  for (int i = 0; i + 1 < 3; ++i) {
    const v1::Job a = testing::GetJob(*jobs_, grid.children(i).job_id()), b = testing::GetJob(*jobs_, grid.children(i + 1).job_id());
    EXPECT_LE(a.ended_ms(), b.started_ms()) << "children " << i << " and " << i + 1 << " overlap";
  }
  v1::Run parent_run = testing::GetRun(*experiments_, launched.parent_run_id());
  EXPECT_EQ(parent_run.status(), v1::FAILED);
  EXPECT_EQ(parent_run.name(), "sweep rank × learning_rate (4 runs)");

  {
    grpc::ClientContext context;
    v1::RetryJobRequest retry;
    retry.set_job_id(launched.parent_job_id());
    v1::RetryJobResponse retried;
    ASSERT_TRUE(jobs_->RetryJob(&context, retry, &retried).ok());
    ASSERT_EQ(retried.jobs_size(), 1);
    EXPECT_EQ(retried.jobs(0).id(), cancelled);
  }
  EXPECT_EQ(Watch(launched.parent_job_id()).state(), v1::JOB_FINISHED);
  ASSERT_TRUE(Status(launched.parent_job_id(), &grid).ok());
  for (const v1::SweepChild& c : grid.children()) {
    EXPECT_EQ(c.state(), v1::JOB_FINISHED) << c.name();
    EXPECT_EQ(testing::GetJob(*jobs_, c.job_id()).attempts(), 1) << c.name();  // the finished ones did not run again
  }
  parent_run = testing::GetRun(*experiments_, launched.parent_run_id());
  for (int i = 0; i < 200 && parent_run.status() != v1::FINISHED; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    parent_run = testing::GetRun(*experiments_, launched.parent_run_id());
  }
  EXPECT_EQ(parent_run.status(), v1::FINISHED);
}

TEST_F(TrainerSweepTest, TheEarlyStopRuleFinishesChildrenAtStepSNamingTheRule) {
  // A factor this small stops every child that has a sibling at step 2: the
  // first runs alone (no sibling has reached step 2 yet) and finishes.
  v1::LaunchSweepRequest request = Request(5);
  request.mutable_spec()->add_seeds(1);
  request.mutable_spec()->add_seeds(2);
  request.mutable_spec()->add_seeds(3);
  request.mutable_spec()->set_max_concurrent(1);
  request.mutable_spec()->mutable_early_stop()->set_step(2);
  request.mutable_spec()->mutable_early_stop()->set_factor(1e-6);
  v1::LaunchSweepResponse launched;
  grpc::Status status = Launch(request, &launched);
  ASSERT_TRUE(status.ok()) << status.error_message();
  Watch(launched.parent_job_id());
  v1::SweepStatusResponse grid;
  ASSERT_TRUE(Status(launched.parent_job_id(), &grid).ok());
  EXPECT_EQ(grid.early_stop().metric(), "loss");
  EXPECT_EQ(grid.early_stop().window(), 1);
  ASSERT_EQ(grid.children_size(), 3);
  EXPECT_EQ(grid.children(0).name(), "seed=1");
  EXPECT_EQ(grid.children(0).state(), v1::JOB_FINISHED);
  EXPECT_EQ(grid.children(0).step(), 5);
  EXPECT_TRUE(grid.children(0).stopped_early().empty());
  for (int i = 1; i < 3; ++i) {
    const v1::SweepChild& c = grid.children(i);
    EXPECT_EQ(c.state(), v1::JOB_FINISHED) << c.name();
    EXPECT_TRUE(c.error().empty()) << c.error();
    EXPECT_THAT(c.stopped_early(), StartsWith("stopped by the sweep's early-stop rule: loss at step 2 "));
    EXPECT_THAT(c.stopped_early(),
                HasSubstr(i == 1 ? "the median of 1 sibling at step 2" : "the median of 2 siblings at step 2"));
    EXPECT_EQ(c.step(), 2);  // stopped before step 3
    const v1::Run run = testing::GetRun(*experiments_, c.run_id());
    EXPECT_EQ(run.status(), v1::FINISHED);
    EXPECT_THAT(run.notes(), HasSubstr("finished early at step 2 of 5: " + c.stopped_early()));
    EXPECT_EQ(run.tags().at("dreamshot.early_stop"), c.stopped_early());
    // Its adapter is stored, trained for the 2 steps it ran.
    bool has_adapter = false;
    for (const v1::ArtifactRef& a : testing::ListArtifacts(*experiments_, c.run_id())) has_adapter |= a.kind() == "lora";
    EXPECT_TRUE(has_adapter) << c.name();
  }
  // Early-stopped children are results: the parent finished, and retrying
  // it has nothing to rerun.
  EXPECT_EQ(grid.parent().state(), v1::JOB_FINISHED);
  EXPECT_EQ(testing::GetRun(*experiments_, launched.parent_run_id()).status(), v1::FINISHED);
}

TEST_F(TrainerSweepTest, BadSweepsAreRefusedWithNothingStored) {
  struct Case {
    std::function<void(v1::LaunchSweepRequest&)> change;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::LaunchSweepRequest& r) { AddDimension(&r, "learning_rate", {"1e-3", "-1"}); },
       grpc::StatusCode::INVALID_ARGUMENT, "child 2 (lr=-1): learning_rate must be a finite number above 0"},
      {[](v1::LaunchSweepRequest& r) { AddDimension(&r, "rank", {"4", "x"}); }, grpc::StatusCode::INVALID_ARGUMENT,
       "spec.dimensions[0] (rank): 'x' is not a valid int32 for rank"},
      {[](v1::LaunchSweepRequest& r) { AddDimension(&r, "rnak", {"4"}); }, grpc::StatusCode::INVALID_ARGUMENT,
       "TrainConfig has no field 'rnak'"},
      {[](v1::LaunchSweepRequest& r) {
         for (uint64_t s = 0; s < 257; ++s) r.mutable_spec()->add_seeds(s);
       },
       grpc::StatusCode::RESOURCE_EXHAUSTED, "the sweep has 257 children (257 seeds); at most 256"},
      {[](v1::LaunchSweepRequest& r) {
         AddDimension(&r, "rank", {"4"});
         r.mutable_spec()->mutable_early_stop()->set_step(4);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "spec.early_stop.step 4 must be below max_train_steps (4)"},
      {[](v1::LaunchSweepRequest& r) {
         AddDimension(&r, "rank", {"4"});
         r.mutable_target()->set_run_id(1);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "target.run_id"},
  };
  for (const Case& k : cases) {
    v1::LaunchSweepRequest request = Request(4);
    k.change(request);
    v1::LaunchSweepResponse response;
    const grpc::Status status = Launch(request, &response);
    EXPECT_EQ(status.error_code(), k.code) << k.message << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(k.message));
  }
  EXPECT_EQ(CountJobs(), 0);
  v1::SweepStatusResponse grid;
  EXPECT_EQ(Status(99, &grid).error_code(), grpc::StatusCode::NOT_FOUND);
  {
    grpc::ClientContext context;
    v1::StartTrainingRequest start;
    *start.mutable_config() = Request(2).base();
    v1::StartTrainingResponse started;
    ASSERT_TRUE(trainer_->StartTraining(&context, start, &started).ok());
    const grpc::Status not_a_sweep = Status(started.job_id(), &grid);
    EXPECT_EQ(not_a_sweep.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(not_a_sweep.error_message(), HasSubstr("is a train job, not a group of training jobs"));
    Watch(started.job_id());
  }
}

}  // namespace
}  // namespace dreamshot

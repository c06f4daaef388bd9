// JobService through its gRPC stubs, with generation jobs on the tiny
// reference model: a detached job goes on when its client leaves and a
// watcher picks it up from the last event it saw; listing by state, kind
// and device; cancelling a queued and a running job; retrying a cancelled
// job into its run, and refusing to retry a finished one.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/testdata_paths.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "dreamshot/v1/job.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

v1::GenerateRequest Request(int steps, int images) {
  v1::GenerateRequest r;
  v1::GenerationRequest* g = r.mutable_generation();
  g->mutable_model()->set_base(core::ReferencePath("tiny_sd"));
  g->set_prompt("Medium Shot, a harbour at dawn");
  g->set_width(32);
  g->set_height(32);
  g->set_steps(steps);
  g->set_scheduler("ddim");
  for (int i = 0; i < images; ++i) g->add_seeds(100 + i);
  r.mutable_target()->set_experiment("jobs");
  return r;
}

class JobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartServer(testing::FreshDataDir("job-service"));
    ASSERT_NE(server_, nullptr);
    auto channel = testing::ChannelTo(*server_);
    generator_ = v1::GeneratorService::NewStub(channel);
    jobs_ = v1::JobService::NewStub(channel);
    experiments_ = v1::ExperimentService::NewStub(channel);
  }

  // Starts a generation and returns its job id once the first message
  // came; the call is left open in `context`/`reader`.
  int64_t Submit(const v1::GenerateRequest& request, grpc::ClientContext* context,
                 std::unique_ptr<grpc::ClientReader<v1::GenerateResponse>>* reader) {
    *reader = generator_->Generate(context, request);
    v1::GenerateResponse first;
    EXPECT_TRUE((*reader)->Read(&first));
    return first.job_id();
  }

  v1::Job AwaitState(int64_t id, v1::JobState state) {
    for (int i = 0; i < 1200; ++i) {
      v1::Job job = testing::GetJob(*jobs_, id);
      if (job.state() == state) return job;
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << "job " << id << " never reached " << v1::JobState_Name(state);
    return testing::GetJob(*jobs_, id);
  }

  struct Watched {
    std::vector<v1::JobEvent> events;
    grpc::Status status;
    int images() const {
      int n = 0;
      for (const auto& e : events) {
        v1::GenerateResponse r;
        if (e.has_output() && e.output().UnpackTo(&r) && r.has_image()) ++n;
      }
      return n;
    }
  };
  // Watches from `after_seq`; stops after `max_outputs` outputs (the client
  // goes away) or at the end.
  Watched Watch(int64_t id, int64_t after_seq, int max_outputs = 1 << 30) {
    grpc::ClientContext context;
    v1::WatchJobRequest request;
    request.set_job_id(id);
    request.set_after_seq(after_seq);
    auto reader = jobs_->WatchJob(&context, request);
    Watched out;
    v1::JobEvent event;
    int outputs = 0;
    while (reader->Read(&event)) {
      out.events.push_back(event);
      if (event.has_output() && ++outputs >= max_outputs) {
        context.TryCancel();
        break;
      }
    }
    out.status = reader->Finish();
    return out;
  }

  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::GeneratorService::Stub> generator_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
};

TEST_F(JobServiceTest, ADetachedJobOutlivesItsCallerAndWatchersResumeFromTheirLastEvent) {
  v1::GenerateRequest request = Request(40, 3);
  request.mutable_job()->set_detach(true);
  int64_t id;
  {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::GenerateResponse>> reader;
    id = Submit(request, &context, &reader);
    context.TryCancel();  // the client goes away at once
    v1::GenerateResponse ignored;
    while (reader->Read(&ignored)) {
    }
    reader->Finish();
  }
  ASSERT_GT(id, 0);
  // A watcher that leaves after the first image...
  Watched first = Watch(id, 0, 1);
  ASSERT_EQ(first.images(), 1);
  // ...comes back and gets the rest, nothing twice, then the end.
  Watched rest = Watch(id, first.events.back().seq());
  EXPECT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_EQ(rest.images(), 2);
  ASSERT_FALSE(rest.events.empty());
  EXPECT_EQ(rest.events.back().job().state(), v1::JOB_FINISHED);
  // A late watcher gets everything.
  Watched late = Watch(id, 0);
  EXPECT_EQ(late.images(), 3);
  EXPECT_EQ(testing::GetJob(*jobs_, id).state(), v1::JOB_FINISHED);
}

TEST_F(JobServiceTest, ListFiltersCancelStopsQueuedAndRunningJobsAndRetryRunsACancelledOne) {
  grpc::ClientContext running_context, queued_context;
  std::unique_ptr<grpc::ClientReader<v1::GenerateResponse>> running_reader, queued_reader;
  v1::GenerateRequest long_request = Request(400, 1);
  long_request.mutable_job()->set_detach(true);
  const int64_t running = Submit(long_request, &running_context, &running_reader);
  AwaitState(running, v1::JOB_RUNNING);
  v1::GenerateRequest queued_request = Request(3, 1);
  queued_request.mutable_job()->set_detach(true);
  const int64_t queued = Submit(queued_request, &queued_context, &queued_reader);

  {
    grpc::ClientContext context;
    v1::ListJobsRequest list;
    list.add_states(v1::JOB_QUEUED);
    list.set_kind("generate");
    list.set_device("cpu");
    v1::ListJobsResponse jobs;
    ASSERT_TRUE(jobs_->ListJobs(&context, list, &jobs).ok());
    ASSERT_EQ(jobs.jobs_size(), 1);
    EXPECT_EQ(jobs.jobs(0).id(), queued);
    EXPECT_THAT(jobs.jobs(0).config_json(), HasSubstr("a harbour at dawn"));
  }
  for (int64_t id : {queued, running}) {
    grpc::ClientContext context;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(id);
    v1::Job job;
    ASSERT_TRUE(jobs_->CancelJob(&context, cancel, &job).ok());
  }
  EXPECT_EQ(testing::GetJob(*jobs_, queued).run_id(), 0);  // left before it made a run
  const v1::Job cancelled = AwaitState(running, v1::JOB_CANCELLED);
  ASSERT_GT(cancelled.run_id(), 0);
  // Both callers hear CANCELLED.
  for (auto* reader : {running_reader.get(), queued_reader.get()}) {
    v1::GenerateResponse ignored;
    while (reader->Read(&ignored)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }

  // Cancelling again names the state.
  {
    grpc::ClientContext context;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(running);
    v1::Job job;
    const grpc::Status again = jobs_->CancelJob(&context, cancel, &job);
    EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(again.error_message(), HasSubstr("is cancelled"));
  }
  // The queued one, retried, runs and finishes in a run of its own.
  {
    grpc::ClientContext context;
    v1::RetryJobRequest retry;
    retry.set_job_id(queued);
    v1::RetryJobResponse retried;
    ASSERT_TRUE(jobs_->RetryJob(&context, retry, &retried).ok());
    ASSERT_EQ(retried.jobs_size(), 1);
  }
  const v1::Job finished = AwaitState(queued, v1::JOB_FINISHED);
  EXPECT_GT(finished.run_id(), 0);
  EXPECT_EQ(testing::GetRun(*experiments_, finished.run_id()).status(), v1::FINISHED);
  // A finished job is refused, naming its state.
  grpc::ClientContext context;
  v1::RetryJobRequest retry;
  retry.set_job_id(queued);
  v1::RetryJobResponse retried;
  const grpc::Status refused = jobs_->RetryJob(&context, retry, &retried);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("job " + std::to_string(queued) + " is finished"));
}

TEST_F(JobServiceTest, BadRequestsNameTheProblem) {
  grpc::ClientContext c1, c2, c3;
  v1::GetJobRequest get;
  get.set_job_id(12345);
  v1::Job job;
  EXPECT_EQ(jobs_->GetJob(&c1, get, &job).error_code(), grpc::StatusCode::NOT_FOUND);
  get.set_job_id(-1);
  EXPECT_EQ(jobs_->GetJob(&c2, get, &job).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListJobsRequest list;
  list.set_page_token("nonsense");
  v1::ListJobsResponse jobs;
  const grpc::Status bad_token = jobs_->ListJobs(&c3, list, &jobs);
  EXPECT_EQ(bad_token.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_token.error_message(), HasSubstr("page_token"));
  Watched missing = Watch(999, 0);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace dreamshot

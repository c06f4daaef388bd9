#include "experiments/job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::string(::testing::TempDir()) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + std::to_string(::getpid()) + ".db";
    std::remove(path_.c_str());
    Reopen();
  }
  void Reopen() {
    jobs_.reset();
    store_.reset();
    auto store = ExperimentStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobStore>(store_->database());
  }
  NewJob Job(const std::string& device, int priority = 0) {
    NewJob job;
    job.kind = "generate";
    job.device = device;
    job.priority = priority;
    job.config_type = "dreamshot.v1.GenerateRequest";
    job.config_json = R"({"generation":{"prompt":"a close shot"}})";
    job.run.mode = RunMode::kNew;
    job.run.run_name = "close";
    job.run.run_kind = "generate";
    job.run.params = {{"steps", "4"}};
    job.run.path_prefix = "images";
    return job;
  }
  std::vector<int64_t> Ids(const std::vector<JobRecord>& jobs) {
    std::vector<int64_t> ids;
    for (const auto& j : jobs) ids.push_back(j.id);
    return ids;
  }

  std::string path_;
  std::unique_ptr<ExperimentStore> store_;
  std::unique_ptr<JobStore> jobs_;
};

TEST_F(JobStoreTest, QueuedJobsSurviveAReopenInPriorityThenSubmissionOrder) {
  const int64_t low = jobs_->Create(Job("cpu"))->id;
  const int64_t high = jobs_->Create(Job("cpu", 5))->id;
  const int64_t later = jobs_->Create(Job("cpu"))->id;
  const int64_t gpu = jobs_->Create(Job("cuda:0"))->id;
  Reopen();
  auto queued = jobs_->Queued("cpu");
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_THAT(Ids(*queued), ElementsAre(high, low, later));
  EXPECT_THAT(*jobs_->QueuedDevices(), ElementsAre("cpu", "cuda:0"));
  const JobRecord stored = *jobs_->Get(gpu);
  EXPECT_EQ(stored.state, JobState::kQueued);
  EXPECT_EQ(stored.config_json, R"({"generation":{"prompt":"a close shot"}})");
  EXPECT_EQ(stored.run.mode, RunMode::kNew);
  EXPECT_EQ(stored.run.run_name, "close");
  EXPECT_EQ(stored.run.params.at("steps"), "4");
  EXPECT_EQ(stored.run.path_prefix, "images");
  EXPECT_EQ(*jobs_->CountActive("cpu"), 3);
}

TEST_F(JobStoreTest, StatesMoveForwardAndNameTheStateTheyRefuse) {
  const int64_t id = jobs_->Create(Job("cpu"))->id;
  auto started = jobs_->MarkStarted(id);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->state, JobState::kRunning);
  EXPECT_EQ(started->attempts, 1);
  EXPECT_EQ(jobs_->MarkStarted(id).status().code(), absl::StatusCode::kFailedPrecondition);
  auto ended = jobs_->End(id, JobState::kFinished, 0, "");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_TRUE(ended->ended_ms.has_value());
  absl::Status again = jobs_->End(id, JobState::kFailed, 2, "late").status();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  absl::Status retry = jobs_->Requeue(id, false, "").status();
  EXPECT_EQ(retry.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(retry.message()), HasSubstr("job " + std::to_string(id) + " is finished"));
  EXPECT_EQ(jobs_->Get(404).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobStoreTest, ARequeuedJobContinuesItsRunAndCountsAutomaticRetries) {
  auto experiment = store_->GetOrCreateExperiment("generations");
  NewRun r;
  r.experiment_id = experiment->id;
  const int64_t run_id = store_->CreateRun(r)->id;
  const int64_t id = jobs_->Create(Job("cpu"))->id;
  ASSERT_TRUE(jobs_->MarkStarted(id).ok());
  ASSERT_TRUE(jobs_->SetRun(id, run_id).ok());
  auto interrupted = jobs_->InterruptRunning("the server stopped");
  ASSERT_TRUE(interrupted.ok());
  ASSERT_EQ(interrupted->size(), 1u);
  EXPECT_EQ((*interrupted)[0].state, JobState::kInterrupted);
  EXPECT_EQ((*interrupted)[0].error, "the server stopped");
  auto requeued = jobs_->Requeue(id, true, "resumed");
  ASSERT_TRUE(requeued.ok()) << requeued.status();
  EXPECT_EQ(requeued->state, JobState::kQueued);
  EXPECT_EQ(requeued->run.mode, RunMode::kResume);
  EXPECT_EQ(requeued->run.run_id, run_id);
  EXPECT_EQ(requeued->run.reopen_note, "resumed");
  EXPECT_EQ(requeued->auto_retries, 1);
  ASSERT_TRUE(jobs_->MarkStarted(id).ok());
  ASSERT_TRUE(jobs_->End(id, JobState::kCancelled, 1, "cancelled").ok());
  EXPECT_EQ(jobs_->Requeue(id, false, "retried")->auto_retries, 0);  // a person's retry starts the count again
}

TEST_F(JobStoreTest, ClientJobsAreNeverInterrupted) {
  NewJob client = Job("cpu");
  client.owner = JobOwner::kClient;
  const int64_t id = jobs_->Create(client)->id;
  ASSERT_TRUE(jobs_->MarkStarted(id).ok());
  auto interrupted = jobs_->InterruptRunning("restart");
  ASSERT_TRUE(interrupted.ok());
  EXPECT_TRUE(interrupted->empty());
  EXPECT_EQ(jobs_->Get(id)->state, JobState::kRunning);
}

TEST_F(JobStoreTest, AGroupEndsWithItsChildrenAndRunsAgainWhenOneIsRetried) {
  NewJob sweep;
  sweep.kind = "sweep";
  sweep.group = true;
  const JobRecord group = *jobs_->Create(sweep);
  EXPECT_EQ(group.state, JobState::kRunning);
  NewJob child = Job("cpu");
  child.parent_id = group.id;
  const int64_t a = jobs_->Create(child)->id, b = jobs_->Create(child)->id;
  EXPECT_EQ(jobs_->Get(group.id)->children, 2);
  JobQuery children;
  children.parent_id = group.id;
  EXPECT_THAT(Ids(*jobs_->List(children)), ElementsAre(b, a));
  JobQuery top;
  top.parent_id = 0;
  EXPECT_THAT(Ids(*jobs_->List(top)), ElementsAre(group.id));

  for (int64_t id : {a, b}) ASSERT_TRUE(jobs_->MarkStarted(id).ok());
  ASSERT_TRUE(jobs_->End(a, JobState::kFinished, 0, "").ok());
  EXPECT_EQ(jobs_->SettleGroup(group.id)->state, JobState::kRunning);
  ASSERT_TRUE(jobs_->End(b, JobState::kFailed, 13, "boom").ok());
  JobRecord settled = *jobs_->SettleGroup(group.id);
  EXPECT_EQ(settled.state, JobState::kFailed);
  EXPECT_EQ(settled.error, "1 of 2 jobs did not finish");
  ASSERT_TRUE(jobs_->Requeue(b, false, "").ok());
  EXPECT_EQ(jobs_->SettleGroup(group.id)->state, JobState::kRunning);
  ASSERT_TRUE(jobs_->MarkStarted(b).ok());
  ASSERT_TRUE(jobs_->End(b, JobState::kFinished, 0, "").ok());
  EXPECT_EQ(jobs_->SettleGroup(group.id)->state, JobState::kFinished);
  EXPECT_EQ(jobs_->Requeue(group.id, false, "").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(JobStoreTest, ListFiltersByStateKindAndDeviceNewestFirst) {
  const int64_t a = jobs_->Create(Job("cpu"))->id;
  NewJob build = Job("dataset");
  build.kind = "build_pool";
  const int64_t b = jobs_->Create(build)->id;
  ASSERT_TRUE(jobs_->MarkStarted(a).ok());
  JobQuery running;
  running.states = {JobState::kRunning};
  EXPECT_THAT(Ids(*jobs_->List(running)), ElementsAre(a));
  JobQuery kind;
  kind.kind = "build_pool";
  EXPECT_THAT(Ids(*jobs_->List(kind)), ElementsAre(b));
  JobQuery device;
  device.device = "cpu";
  EXPECT_THAT(Ids(*jobs_->List(device)), ElementsAre(a));
  JobQuery page;
  page.limit = 1;
  EXPECT_THAT(Ids(*jobs_->List(page)), ElementsAre(b));
  page.after_id = b;
  EXPECT_THAT(Ids(*jobs_->List(page)), ElementsAre(a));
  NewJob orphan = Job("cpu");
  orphan.parent_id = 999;
  EXPECT_EQ(jobs_->Create(orphan).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::experiments

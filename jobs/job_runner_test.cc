#include "jobs/job_runner.h"

#include <google/protobuf/wrappers.pb.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "experiments/store.h"

namespace dreamshot::jobs {
namespace {

using experiments::JobRecord;
using experiments::JobState;
using experiments::RunMode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A body that emits "<n>" for each step and polls its cancel flag. Steps
// pass only while the gate is open, so a test can hold a job mid-way.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int permits = -1;  // steps that may pass while closed (-1: none counted)
  int waiting = 0;
  void Close() { std::lock_guard<std::mutex> l(mu); open = false; }
  void Open() {
    { std::lock_guard<std::mutex> l(mu); open = true; permits = -1; }
    cv.notify_all();
  }
  // Closed, but lets `n` more steps through.
  void Allow(int n) {
    { std::lock_guard<std::mutex> l(mu); open = false; permits = n; }
    cv.notify_all();
  }
  // Returns false when cancelled while waiting.
  bool Pass(const JobContext& ctx) {
    std::unique_lock<std::mutex> l(mu);
    ++waiting;
    cv.notify_all();
    while (!open && permits <= 0 && !ctx.cancelled()) cv.wait_for(l, 5ms);
    if (!open && permits > 0) --permits;
    --waiting;
    return !ctx.cancelled();
  }
  void AwaitWaiting() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return waiting > 0; });
  }
};

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::string(::testing::TempDir()) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + std::to_string(::getpid()) + ".db";
    std::remove(path_.c_str());
    Restart();
  }
  void TearDown() override {
    gate_.Open();
    runner_.reset();
  }

  // A fresh runner on the same store, as after a server restart.
  void Restart(RunnerOptions options = {}) {
    if (runner_) runner_->Shutdown();
    runner_.reset();
    store_.reset();
    auto store = experiments::ExperimentStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    experiment_id_ = store_->GetOrCreateExperiment("jobs")->id;
    runner_ = std::make_unique<JobRunner>(store_.get(), options);
    for (bool resumable : {false, true}) {
      JobKind kind;
      kind.name = resumable ? "resumable" : "steps";
      kind.resumable = resumable;
      kind.run = [this](JobContext& ctx) -> absl::Status {
        google::protobuf::Int64Value steps;
        steps.set_value(std::stoi(ctx.job().config_json));
        // A resumable job goes on after the outputs its run already holds.
        int64_t done = 0;
        if (ctx.resuming()) done = store_->GetRun(ctx.run_id())->params.size();
        for (int64_t i = done; i < steps.value(); ++i) {
          if (!gate_.Pass(ctx)) return absl::CancelledError("cancelled");
          (void)store_->LogParams(ctx.run_id(), {{"step" + std::to_string(i), ctx.path_prefix()}});
          google::protobuf::StringValue out;
          out.set_value(std::to_string(i));
          ctx.Output(out);
        }
        order_.push_back(ctx.job().id);
        return absl::OkStatus();
      };
      runner_->Register(kind);
    }
    JobKind failing;
    failing.name = "failing";
    failing.run = [](JobContext&) { return absl::DataLossError("the source is corrupt"); };
    runner_->Register(failing);
    // Counts how many jobs of each group run at once, and reports each step
    // as progress (for listeners).
    JobKind counted;
    counted.name = "counted";
    counted.run = [this](JobContext& ctx) -> absl::Status {
      const int64_t group = ctx.job().parent_id;
      {
        std::lock_guard<std::mutex> l(count_mu_);
        most_at_once_[group] = std::max(most_at_once_[group], ++at_once_[group]);
      }
      absl::Status status = absl::OkStatus();
      for (int i = 1; i <= std::stoi(ctx.job().config_json); ++i) {
        if (!gate_.Pass(ctx)) {
          status = absl::CancelledError("cancelled");
          break;
        }
        google::protobuf::Int64Value step;
        step.set_value(i);
        ctx.Progress(step);
      }
      std::lock_guard<std::mutex> l(count_mu_);
      --at_once_[group];
      return status;
    };
    runner_->Register(counted);
    // A group kind whose config is its limit on running children.
    JobKind limited;
    limited.name = "limited";
    limited.max_running_children = [](const JobRecord& group) { return std::stoi(group.config_json); };
    runner_->Register(limited);
    for (const auto& listener : listeners_) runner_->AddProgressListener(listener);
    auto report = runner_->Start();
    ASSERT_TRUE(report.ok()) << report.status();
    report_ = *report;
  }

  experiments::NewJob Job(int steps, const std::string& kind = "steps", int priority = 0) {
    experiments::NewJob job;
    job.kind = kind;
    job.device = "cpu";
    job.priority = priority;
    job.config_type = "steps";
    job.config_json = std::to_string(steps);
    job.run.mode = RunMode::kNew;
    job.run.experiment_id = experiment_id_;
    job.run.run_name = kind;
    job.run.run_kind = kind;
    job.run.path_prefix = "out";
    return job;
  }
  int64_t Submit(const experiments::NewJob& job) {
    auto submitted = runner_->Submit(job);
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    return submitted.ok() ? submitted->job.id : 0;
  }
  JobRecord AwaitEnd(int64_t id) {
    for (int i = 0; i < 2000; ++i) {
      JobRecord job = *runner_->store().Get(id);
      if (experiments::IsTerminal(job.state)) return job;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "job " << id << " did not end";
    return *runner_->store().Get(id);
  }
  JobState StateOf(int64_t id) { return runner_->store().Get(id)->state; }
  // A group's run ends just after the group.
  void AwaitRunEnd(int64_t run_id) {
    for (int i = 0; i < 2000; ++i) {
      if (experiments::IsTerminal(store_->GetRun(run_id)->status)) return;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "run " << run_id << " did not end";
  }
  experiments::NewJob Group(int limit) {
    experiments::NewJob group;
    group.kind = "limited";
    group.config_json = std::to_string(limit);
    group.run.mode = RunMode::kNew;
    group.run.experiment_id = experiment_id_;
    group.run.run_name = "sweep";
    group.run.run_kind = "sweep";
    return group;
  }
  int64_t CountJobs() {
    experiments::JobQuery all;
    all.limit = 1 << 20;
    return static_cast<int64_t>(runner_->store().List(all)->size());
  }
  // Waits until `n` job bodies wait at the closed gate.
  void AwaitWaiting(int n) {
    std::unique_lock<std::mutex> l(gate_.mu);
    ASSERT_TRUE(gate_.cv.wait_for(l, 10s, [&] { return gate_.waiting >= n; })) << gate_.waiting << " waiting";
  }

  std::string path_;
  Gate gate_;
  std::mutex count_mu_;
  std::map<int64_t, int> at_once_, most_at_once_;
  std::vector<JobRunner::ProgressListener> listeners_;  // added at each (re)start
  std::vector<int64_t> order_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<JobRunner> runner_;
  RecoveryReport report_;
  int64_t experiment_id_ = 0;
};

TEST_F(JobRunnerTest, AJobMakesItsRunAndEndsWithIt) {
  const JobRecord job = AwaitEnd(Submit(Job(3)));
  EXPECT_EQ(job.state, JobState::kFinished);
  EXPECT_EQ(job.attempts, 1);
  ASSERT_GT(job.run.run_id, 0);
  const experiments::Run run = *store_->GetRun(job.run.run_id);
  EXPECT_EQ(run.status, experiments::RunStatus::kFinished);
  EXPECT_EQ(run.params.size(), 3u);
  EXPECT_EQ(run.tags.at("dreamshot.job"), std::to_string(job.id));
}

TEST_F(JobRunnerTest, HigherPriorityRunsFirstThenSubmissionOrder) {
  gate_.Close();
  const int64_t blocker = Submit(Job(1));
  gate_.AwaitWaiting();
  const int64_t low = Submit(Job(1));
  const int64_t later = Submit(Job(1));
  auto high = runner_->Submit(Job(1, "steps", 5));
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(high->ahead, 1);  // only the running one
  gate_.Open();
  for (int64_t id : {blocker, low, later, high->job.id}) AwaitEnd(id);
  EXPECT_THAT(order_, ElementsAre(blocker, high->job.id, low, later));
}

TEST_F(JobRunnerTest, AFullDeviceRefusesAndNamesItsLoad) {
  Restart([] {
    RunnerOptions o;
    o.capacity = 2;
    return o;
  }());
  gate_.Close();
  Submit(Job(1));
  Submit(Job(1));
  auto refused = runner_->Submit(Job(1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("the cpu queue is full: 2 jobs"));
}

TEST_F(JobRunnerTest, CancelledQueuedJobLeavesAtOnceWithoutARunAndARunningOneStopsAtItsNextStep) {
  gate_.Close();
  const int64_t running = Submit(Job(5));
  gate_.AwaitWaiting();
  const int64_t queued = Submit(Job(5));
  auto cancelled = runner_->Cancel(queued);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_EQ(cancelled->run.run_id, 0);
  ASSERT_TRUE(runner_->Cancel(running).ok());
  const JobRecord stopped = AwaitEnd(running);
  EXPECT_EQ(stopped.state, JobState::kCancelled);
  EXPECT_EQ(store_->GetRun(stopped.run.run_id)->status, experiments::RunStatus::kCancelled);
  absl::Status again = runner_->Cancel(running).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.message()), HasSubstr("is cancelled"));
}

TEST_F(JobRunnerTest, RetryQueuesAFailedJobAgainInItsRunAndRefusesAFinishedOne) {
  const JobRecord failed = AwaitEnd(Submit(Job(1, "failing")));
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.error_code, static_cast<int>(absl::StatusCode::kDataLoss));
  EXPECT_EQ(failed.error, "the source is corrupt");
  EXPECT_THAT(store_->GetRun(failed.run.run_id)->notes, HasSubstr("the source is corrupt"));
  auto retried = runner_->Retry(failed.id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  const JobRecord again = AwaitEnd(failed.id);
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(again.run.run_id, failed.run.run_id);  // the same run, reopened
  EXPECT_THAT(store_->GetRun(failed.run.run_id)->notes, HasSubstr("\nretried at "));

  const JobRecord done = AwaitEnd(Submit(Job(1)));
  absl::Status refused = runner_->Retry(done.id).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("job " + std::to_string(done.id) + " is finished"));
}

TEST_F(JobRunnerTest, QueuedJobsSurviveAShutdownAndRunAfterTheRestart) {
  gate_.Close();
  const int64_t running = Submit(Job(3));
  gate_.AwaitWaiting();
  const int64_t a = Submit(Job(2)), b = Submit(Job(2));
  runner_->Shutdown();
  EXPECT_EQ(StateOf(running), JobState::kInterrupted);  // not resumable: left for a person
  EXPECT_EQ(StateOf(a), JobState::kQueued);
  EXPECT_EQ(StateOf(b), JobState::kQueued);
  gate_.Open();
  Restart();
  EXPECT_EQ(report_.queued, 2);
  EXPECT_EQ(AwaitEnd(a).state, JobState::kFinished);
  EXPECT_EQ(AwaitEnd(b).state, JobState::kFinished);
  EXPECT_EQ(StateOf(running), JobState::kInterrupted);
  const JobRecord interrupted = *runner_->store().Get(running);
  EXPECT_THAT(store_->GetRun(interrupted.run.run_id)->notes, HasSubstr("interrupted at "));
}

TEST_F(JobRunnerTest, AResumableJobInterruptedByAShutdownResumesInItsRunAfterTheRestart) {
  gate_.Close();
  const int64_t id = Submit(Job(4, "resumable"));
  gate_.AwaitWaiting();
  gate_.Allow(2);  // two of its four steps, then the server stops
  for (int i = 0; i < 5000; ++i) {
    const JobRecord j = *runner_->store().Get(id);
    if (j.run.run_id > 0 && store_->GetRun(j.run.run_id)->params.size() >= 2) break;
    std::this_thread::sleep_for(1ms);
  }
  runner_->Shutdown();
  const JobRecord requeued = *runner_->store().Get(id);
  ASSERT_EQ(requeued.state, JobState::kQueued);
  EXPECT_EQ(requeued.run.mode, RunMode::kResume);
  EXPECT_EQ(requeued.auto_retries, 1);
  gate_.Open();
  Restart();
  const JobRecord done = AwaitEnd(id);
  EXPECT_EQ(done.state, JobState::kFinished);
  const experiments::Run run = *store_->GetRun(done.run.run_id);
  EXPECT_EQ(run.params.size(), 4u);  // every step once
  EXPECT_EQ(run.status, experiments::RunStatus::kFinished);
  EXPECT_THAT(run.notes, HasSubstr("\nresumed at "));
}

TEST_F(JobRunnerTest, AfterACrashRunningJobsAreInterruptedResumableOnesRequeuedAndClientJobsLeftAlone) {
  // What a killed server leaves: jobs marked running that nobody runs.
  experiments::JobStore jobs(store_->database());
  runner_->Shutdown();
  auto crashed = [&](const std::string& kind, experiments::JobOwner owner) {
    experiments::NewJob job = Job(2, kind);
    job.owner = owner;
    const int64_t id = jobs.Create(job)->id;
    EXPECT_TRUE(jobs.MarkStarted(id).ok());
    experiments::NewRun run;
    run.experiment_id = experiment_id_;
    run.tags = {{"dreamshot.kind", kind}};
    const int64_t run_id = store_->CreateRun(run)->id;
    EXPECT_TRUE(jobs.SetRun(id, run_id).ok());
    return id;
  };
  const int64_t plain = crashed("steps", experiments::JobOwner::kServer);
  const int64_t resumable = crashed("resumable", experiments::JobOwner::kServer);
  experiments::NewJob client_job = Job(1);
  client_job.owner = experiments::JobOwner::kClient;
  experiments::NewRun client_run;
  client_run.experiment_id = experiment_id_;
  const int64_t client_run_id = store_->CreateRun(client_run)->id;
  client_job.run.mode = RunMode::kAdd;
  client_job.run.run_id = client_run_id;
  const int64_t client = jobs.Create(client_job)->id;
  ASSERT_TRUE(jobs.MarkStarted(client).ok());

  Restart();
  EXPECT_EQ(report_.interrupted, 2);
  EXPECT_EQ(report_.resumed, 1);
  EXPECT_EQ(report_.failed_runs, 2);
  EXPECT_EQ(StateOf(plain), JobState::kInterrupted);
  EXPECT_THAT(store_->GetRun(runner_->store().Get(plain)->run.run_id)->notes,
              HasSubstr("found interrupted at "));
  EXPECT_EQ(AwaitEnd(resumable).state, JobState::kFinished);
  EXPECT_EQ(StateOf(client), JobState::kRunning);
  EXPECT_EQ(store_->GetRun(client_run_id)->status, experiments::RunStatus::kRunning);
}

TEST_F(JobRunnerTest, AutomaticResumesStopAtTheirLimit) {
  runner_->Shutdown();
  experiments::JobStore jobs(store_->database());
  const int64_t id = jobs.Create(Job(1, "resumable"))->id;
  // Two crashes already resumed it automatically; the third finds the limit.
  for (int crash = 0; crash < 2; ++crash) {
    ASSERT_TRUE(jobs.MarkStarted(id).ok());
    ASSERT_EQ(jobs.InterruptRunning("crash")->size(), 1u);
    ASSERT_TRUE(jobs.Requeue(id, /*automatic=*/true, "resumed").ok());
  }
  ASSERT_TRUE(jobs.MarkStarted(id).ok());
  Restart([] {
    RunnerOptions o;
    o.max_auto_retries = 2;
    return o;
  }());
  EXPECT_EQ(report_.interrupted, 1);
  EXPECT_EQ(report_.resumed, 0);
  const JobRecord job = *runner_->store().Get(id);
  EXPECT_EQ(job.state, JobState::kInterrupted);
  EXPECT_EQ(job.auto_retries, 2);
  // A person may still retry it, which starts the count again.
  ASSERT_TRUE(runner_->Retry(id).ok());
  EXPECT_EQ(AwaitEnd(id).state, JobState::kFinished);
  EXPECT_EQ(runner_->store().Get(id)->auto_retries, 0);
}

TEST_F(JobRunnerTest, WatchersAttachLateAndAfterADisconnectWithoutLosingOutputs) {
  gate_.Close();
  const int64_t id = Submit(Job(3));
  gate_.AwaitWaiting();
  std::mutex mu;
  std::vector<std::string> early, late;
  auto collect = [&](std::vector<std::string>* into, int64_t* last_seq) {
    return [&mu, into, last_seq](const JobEvent& e) {
      std::lock_guard<std::mutex> l(mu);
      if (e.type == JobEvent::Type::kOutput) {
        google::protobuf::StringValue v;
        v.ParseFromString(e.payload);
        into->push_back(v.value());
      }
      if (last_seq) *last_seq = e.seq;
      return !(e.type == JobEvent::Type::kState && experiments::IsTerminal(e.job.state));
    };
  };
  int64_t seen = 0;
  auto watch = runner_->Watch(id, 0, collect(&early, &seen));
  ASSERT_TRUE(watch.ok());
  gate_.Allow(1);
  for (int i = 0; i < 5000; ++i) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!early.empty()) break;
    }
    std::this_thread::sleep_for(1ms);
  }
  int64_t resume_from;
  {
    std::lock_guard<std::mutex> l(mu);
    resume_from = seen;
  }
  runner_->Unwatch(id, *watch);  // the client went away mid-job
  gate_.Open();
  AwaitEnd(id);
  ASSERT_TRUE(runner_->Watch(id, resume_from, collect(&late, nullptr)).ok());
  std::vector<std::string> all = early;
  all.insert(all.end(), late.begin(), late.end());
  EXPECT_THAT(all, ElementsAre("0", "1", "2"));
  // One that saw everything, the end included, is told the end again.
  int64_t last = 0;
  std::vector<std::string> none;
  ASSERT_TRUE(runner_->Watch(id, 0, collect(&none, &last)).ok());
  int64_t after_end = last;
  bool told_end = false;
  ASSERT_TRUE(runner_
                  ->Watch(id, after_end,
                          [&](const JobEvent& e) {
                            told_end = e.type == JobEvent::Type::kState && e.job.state == JobState::kFinished;
                            return false;
                          })
                  .ok());
  EXPECT_TRUE(told_end);
}

TEST_F(JobRunnerTest, AGroupFollowsItsChildrenAndRetryingItRetriesTheFailedOnes) {
  experiments::NewJob sweep;
  sweep.kind = "sweep";
  auto group = runner_->CreateGroup(sweep);
  ASSERT_TRUE(group.ok()) << group.status();
  experiments::NewJob ok_child = Job(1), bad_child = Job(1, "failing");
  ok_child.parent_id = bad_child.parent_id = group->id;
  const int64_t ok_id = Submit(ok_child), bad_id = Submit(bad_child);
  AwaitEnd(ok_id);
  AwaitEnd(bad_id);
  // The group settles just after its last job ends.
  JobRecord settled = AwaitEnd(group->id);
  EXPECT_EQ(settled.state, JobState::kFailed);
  EXPECT_EQ(settled.error, "1 of 2 jobs did not finish");
  auto retried = runner_->Retry(group->id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  ASSERT_EQ(retried->size(), 1u);
  EXPECT_EQ((*retried)[0].id, bad_id);
  AwaitEnd(bad_id);
  EXPECT_EQ(AwaitEnd(group->id).state, JobState::kFailed);  // fails again, so does the group
}

TEST_F(JobRunnerTest, AGroupRunsAtMostItsLimitOfChildrenAtOnceWithoutHoldingBackOtherJobs) {
  Restart([] {
    RunnerOptions o;
    o.default_concurrency = 3;
    return o;
  }());
  gate_.Close();
  std::vector<experiments::NewJob> children(4, Job(2, "counted"));
  auto sweep = runner_->SubmitGroup(Group(2), children);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  ASSERT_EQ(sweep->children.size(), 4u);
  // Submitted after the group, yet it takes the lane's third worker.
  const int64_t other = Submit(Job(2, "counted"));
  AwaitWaiting(3);
  EXPECT_EQ(StateOf(other), JobState::kRunning);
  std::vector<JobState> states;
  for (const Submitted& child : sweep->children) states.push_back(StateOf(child.job.id));
  EXPECT_THAT(states, ElementsAre(JobState::kRunning, JobState::kRunning, JobState::kQueued, JobState::kQueued));
  gate_.Open();
  for (const Submitted& child : sweep->children) EXPECT_EQ(AwaitEnd(child.job.id).state, JobState::kFinished);
  AwaitEnd(other);
  EXPECT_EQ(most_at_once_[sweep->group.id], 2);
  EXPECT_EQ(AwaitEnd(sweep->group.id).state, JobState::kFinished);
}

TEST_F(JobRunnerTest, AGroupsLimitHoldsAfterARestart) {
  Restart([] {
    RunnerOptions o;
    o.default_concurrency = 3;
    return o;
  }());
  gate_.Close();
  std::vector<experiments::NewJob> children(3, Job(1, "counted"));
  auto sweep = runner_->SubmitGroup(Group(1), children);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  AwaitWaiting(1);
  // The running child is interrupted (its kind cannot resume); the queued
  // ones run after the restart, still one at a time.
  Restart([] {
    RunnerOptions o;
    o.default_concurrency = 3;
    return o;
  }());
  gate_.Open();
  EXPECT_EQ(AwaitEnd(sweep->children[0].job.id).state, JobState::kInterrupted);
  EXPECT_EQ(AwaitEnd(sweep->children[1].job.id).state, JobState::kFinished);
  EXPECT_EQ(AwaitEnd(sweep->children[2].job.id).state, JobState::kFinished);
  EXPECT_EQ(most_at_once_[sweep->group.id], 1);
}

TEST_F(JobRunnerTest, AGroupTakesOnePlaceOfALaneAndAFullLaneRefusesAllOfIt) {
  Restart([] {
    RunnerOptions o;
    o.capacity = 2;
    return o;
  }());
  gate_.Close();
  std::vector<experiments::NewJob> children(5, Job(1, "counted"));
  auto sweep = runner_->SubmitGroup(Group(0), children);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  Submit(Job(1));  // the second place
  const int64_t stored = CountJobs();
  auto refused = runner_->SubmitGroup(Group(0), children);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("the cpu queue is full: 2 jobs"));
  EXPECT_EQ(CountJobs(), stored);  // neither the group nor any child
  EXPECT_EQ(runner_->Submit(Job(1)).status().code(), absl::StatusCode::kResourceExhausted);
  experiments::NewJob late_child = Job(1, "counted");
  late_child.parent_id = sweep->group.id;
  EXPECT_TRUE(runner_->Submit(late_child).ok());  // its group has its place already
  auto not_a_job = runner_->Submit(Group(0));
  EXPECT_EQ(not_a_job.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JobRunnerTest, AGroupsRunIsTheParentOfItsChildrensRunsAndFollowsTheGroup) {
  gate_.Close();
  std::vector<experiments::NewJob> children = {Job(1, "counted"), Job(1, "counted"), Job(1, "failing"),
                                               Job(1, "counted")};
  auto sweep = runner_->SubmitGroup(Group(0), children);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  const int64_t group_run = sweep->group.run.run_id;
  ASSERT_GT(group_run, 0);
  EXPECT_EQ(store_->GetRun(group_run)->status, experiments::RunStatus::kRunning);
  EXPECT_EQ(store_->GetRun(group_run)->tags.at("dreamshot.job"), std::to_string(sweep->group.id));
  const int64_t done = sweep->children[0].job.id, cancelled = sweep->children[1].job.id,
                failed = sweep->children[2].job.id, queued = sweep->children[3].job.id;
  AwaitWaiting(1);
  // Queued: it leaves at once, with the reason and without a run.
  ASSERT_TRUE(runner_->Cancel(cancelled, "stopped by a rule: loss too high").ok());
  gate_.Open();
  for (int64_t id : {done, cancelled, failed, queued}) AwaitEnd(id);
  const JobRecord stopped = *runner_->store().Get(cancelled);
  EXPECT_EQ(stopped.state, JobState::kCancelled);
  EXPECT_EQ(stopped.error, "stopped by a rule: loss too high");
  EXPECT_EQ(StateOf(failed), JobState::kFailed);
  for (int64_t id : {done, failed, queued}) {
    const JobRecord child = *runner_->store().Get(id);
    ASSERT_GT(child.run.run_id, 0);
    EXPECT_EQ(store_->GetRun(child.run.run_id)->parent_run_id, group_run);
  }
  const JobRecord group = AwaitEnd(sweep->group.id);
  EXPECT_EQ(group.state, JobState::kFailed);
  EXPECT_EQ(group.error, "2 of 4 jobs did not finish");
  AwaitRunEnd(group_run);
  experiments::Run run = *store_->GetRun(group_run);
  EXPECT_EQ(run.status, experiments::RunStatus::kFailed);
  EXPECT_THAT(run.notes, HasSubstr("2 of 4 jobs did not finish"));

  // Only the two that did not finish run again; the group's run reopens
  // and, when they finish, ends finished. (The failing kind fails again.)
  auto retried = runner_->Retry(sweep->group.id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  // A watcher of the group follows this round, not the last one's end.
  std::mutex ends_mu;
  std::vector<std::string> ends;
  ASSERT_TRUE(runner_
                  ->Watch(sweep->group.id, 0,
                          [&](const JobEvent& e) {
                            if (e.type != JobEvent::Type::kState || !experiments::IsTerminal(e.job.state)) return true;
                            std::lock_guard<std::mutex> l(ends_mu);
                            ends.push_back(e.job.error);
                            return false;
                          })
                  .ok());
  std::vector<int64_t> again;
  for (const JobRecord& job : *retried) again.push_back(job.id);
  EXPECT_THAT(again, ::testing::UnorderedElementsAre(cancelled, failed));
  for (int64_t id : again) AwaitEnd(id);
  EXPECT_EQ(StateOf(done), JobState::kFinished);
  EXPECT_EQ(runner_->store().Get(done)->attempts, 1);
  EXPECT_EQ(StateOf(cancelled), JobState::kFinished);
  AwaitEnd(sweep->group.id);
  AwaitRunEnd(group_run);
  for (int i = 0; i < 2000; ++i) {  // the end is published just after it is stored
    std::lock_guard<std::mutex> l(ends_mu);
    if (!ends.empty()) break;
    std::this_thread::sleep_for(5ms);
  }
  {
    std::lock_guard<std::mutex> l(ends_mu);
    EXPECT_THAT(ends, ElementsAre("1 of 4 jobs did not finish"));
  }
  run = *store_->GetRun(group_run);
  EXPECT_EQ(run.status, experiments::RunStatus::kFailed);
  EXPECT_THAT(run.notes, HasSubstr("running again at "));
  EXPECT_THAT(run.notes, HasSubstr("1 of 4 jobs did not finish"));
}

TEST_F(JobRunnerTest, AGroupsRunFailedByARestartIsReopenedWhileItsChildrenRun) {
  gate_.Close();
  std::vector<experiments::NewJob> children(2, Job(1, "counted"));
  auto sweep = runner_->SubmitGroup(Group(0), children);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  AwaitWaiting(1);
  Restart();
  gate_.Open();
  AwaitEnd(sweep->children[1].job.id);
  // Interrupted (it cannot resume): retried, it finishes, and so does the group.
  ASSERT_TRUE(runner_->Retry(sweep->group.id).ok());
  AwaitEnd(sweep->children[0].job.id);
  EXPECT_EQ(AwaitEnd(sweep->group.id).state, JobState::kFinished);
  AwaitRunEnd(sweep->group.run.run_id);
  const experiments::Run run = *store_->GetRun(sweep->group.run.run_id);
  EXPECT_EQ(run.status, experiments::RunStatus::kFinished);
  EXPECT_THAT(run.notes, HasSubstr("found interrupted at "));
  EXPECT_THAT(run.notes, HasSubstr("running again at "));
}

TEST_F(JobRunnerTest, AProgressListenerSeesEachStepOnTheJobsThreadAndMayCancelIt) {
  std::vector<int64_t> seen;
  listeners_.push_back([&](const JobRecord& job, int64_t run_id, const google::protobuf::Message& progress) {
    const auto& step = dynamic_cast<const google::protobuf::Int64Value&>(progress);
    seen.push_back(step.value());
    EXPECT_GT(run_id, 0);
    if (step.value() == 2) (void)runner_->Cancel(job.id, "stopped at step 2");
  });
  Restart();
  const JobRecord job = AwaitEnd(Submit(Job(5, "counted")));
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_EQ(job.error, "stopped at step 2");
  EXPECT_THAT(seen, ElementsAre(1, 2));  // the job stops at its next step
  const experiments::Run run = *store_->GetRun(job.run.run_id);
  EXPECT_EQ(run.status, experiments::RunStatus::kCancelled);
  EXPECT_THAT(run.notes, ::testing::MatchesRegex("cancelled at [0-9: -]+ UTC: stopped at step 2"));
}

}  // namespace
}  // namespace dreamshot::jobs

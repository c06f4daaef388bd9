// Unexpected exceptions in a job's body reach clients as one line: a real
// LibTorch error's backtrace (frames, memory addresses) is not in the error
// a job ends with.
#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "experiments/store.h"
#include "jobs/job_runner.h"

namespace dreamshot::jobs {
namespace {

class JobExceptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = std::string(::testing::TempDir()) + "/jobs-exceptions-" + std::to_string(::getpid()) +
                             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    std::remove(path.c_str());
    store_ = std::move(*experiments::ExperimentStore::Open(path));
    runner_ = std::make_unique<JobRunner>(store_.get(), RunnerOptions{});
    JobKind torch_error{"torch_error", false, true, [](JobContext&) -> absl::Status {
                          TORCH_CHECK(false, "tensor too large");
                          return absl::OkStatus();
                        }};
    JobKind runtime_error{"runtime_error", false, true,
                          [](JobContext&) -> absl::Status { throw std::runtime_error("disk on fire"); }};
    runner_->Register(torch_error);
    runner_->Register(runtime_error);
    ASSERT_TRUE(runner_->Start().ok());
  }

  experiments::JobRecord RunToEnd(const std::string& kind) {
    experiments::NewJob job;
    job.kind = kind;
    job.device = "cpu";
    auto submitted = runner_->Submit(job);
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    for (int i = 0; i < 2000; ++i) {
      experiments::JobRecord r = *runner_->store().Get(submitted->job.id);
      if (experiments::IsTerminal(r.state)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "the job did not end";
    return {};
  }

  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<JobRunner> runner_;
};

TEST_F(JobExceptionTest, LibTorchErrorThrownInAJobEndsWithoutItsBacktrace) {
  const experiments::JobRecord job = RunToEnd("torch_error");
  EXPECT_EQ(job.state, experiments::JobState::kFailed);
  EXPECT_EQ(job.error_code, static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_NE(job.error.find("tensor too large"), std::string::npos) << job.error;
  EXPECT_EQ(job.error.find('\n'), std::string::npos) << job.error;
  EXPECT_EQ(job.error.find("frame #"), std::string::npos) << job.error;
  EXPECT_EQ(job.error.find("0x"), std::string::npos) << job.error;
  EXPECT_EQ(job.error.find("Exception raised from"), std::string::npos) << job.error;
}

TEST_F(JobExceptionTest, OtherExceptionsKeepTheirMessage) {
  EXPECT_EQ(RunToEnd("runtime_error").error, "job failed with an unexpected error: disk on fire");
}

}  // namespace
}  // namespace dreamshot::jobs

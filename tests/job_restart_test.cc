// The jobs layer across a crash, through gRPC against the real daemon in its
// own process: dreamshotd is killed with SIGKILL while one pool build runs
// and two more wait; after a restart the waiting builds run, the running one
// resumes in its run and ends with the same pool as an uninterrupted build
// (nothing duplicated), and a client's run stays running.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "core/testdata_paths.h"
#include "dreamshot/v1/dataset.grpc.pb.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/job.grpc.pb.h"
#include "dreamshot/v1/trainer.grpc.pb.h"
#include "core/safetensors.h"
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kMegamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
constexpr int kFilms = 5;

class Daemon {
 public:
  explicit Daemon(const std::string& data_dir) : data_dir_(data_dir) {}
  ~Daemon() {
    if (pid_ > 0) Kill();
  }

  void Start() {
    const std::string port_file = data_dir_ + "/port";
    fs::remove(port_file);
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string binary = core::RunfilePath("services/dreamshotd");
      const std::string log = data_dir_ + "/dreamshotd.log";
      FILE* out = std::freopen(log.c_str(), "a", stderr);
      (void)out;
      ::execl(binary.c_str(), binary.c_str(), "--listen=127.0.0.1:0", "--survey_listen=", "--threads=1",
              ("--data_dir=" + data_dir_).c_str(), ("--port_file=" + port_file).c_str(), nullptr);
      std::_Exit(127);
    }
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::this_thread::sleep_for(50ms);
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) port_ = port;
    }
    ASSERT_GT(port_, 0) << "dreamshotd did not start; see " << data_dir_ << "/dreamshotd.log";
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
    dataset = v1::DatasetService::NewStub(channel);
    experiments = v1::ExperimentService::NewStub(channel);
    jobs = v1::JobService::NewStub(channel);
    trainer = v1::TrainerService::NewStub(channel);
  }

  // SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
  void Kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    port_ = 0;
  }

  std::unique_ptr<v1::DatasetService::Stub> dataset;
  std::unique_ptr<v1::ExperimentService::Stub> experiments;
  std::unique_ptr<v1::JobService::Stub> jobs;
  std::unique_ptr<v1::TrainerService::Stub> trainer;

 private:
  std::string data_dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

class JobRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("job-restart");
    fs::create_directories(data_dir_);
    for (const char* set : {"a", "b", "c", "whole"}) {
      const fs::path dir = fs::path(data_dir_) / set;
      fs::create_directories(dir);
      const int films = std::string(set) == "a" || std::string(set) == "whole" ? kFilms : 1;
      for (int i = 0; i < films; ++i) fs::copy_file(kMegamind, dir / ("film" + std::to_string(i) + ".avi"));
    }
  }

  // Submits a detached build and returns its job id (from the first message).
  int64_t SubmitBuild(Daemon& d, const std::string& folder) {
    v1::BuildPoolRequest request;
    request.add_sources((fs::path(data_dir_) / folder).string());
    request.set_threads(1);
    request.mutable_target()->set_run_name(folder);
    request.mutable_job()->set_detach(true);
    grpc::ClientContext context;
    auto reader = d.dataset->BuildPool(&context, request);
    v1::BuildPoolResponse message;
    EXPECT_TRUE(reader->Read(&message));
    context.TryCancel();  // detached: the client goes, the job stays
    while (reader->Read(&message)) {
    }
    reader->Finish();
    EXPECT_GT(message.job_id(), 0);
    return message.job_id();
  }

  v1::Job GetJob(Daemon& d, int64_t id) {
    grpc::ClientContext context;
    v1::GetJobRequest request;
    request.set_job_id(id);
    v1::Job job;
    grpc::Status status = d.jobs->GetJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  v1::Job AwaitEnd(Daemon& d, int64_t id) {
    for (int i = 0; i < 1200; ++i) {
      v1::Job job = GetJob(d, id);
      if (job.state() != v1::JOB_QUEUED && job.state() != v1::JOB_RUNNING) return job;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "job " << id << " did not end";
    return GetJob(d, id);
  }

  v1::PoolReport Describe(Daemon& d, int64_t run_id) {
    grpc::ClientContext context;
    v1::DescribePoolRequest request;
    request.set_run_id(run_id);
    v1::PoolReport report;
    grpc::Status status = d.dataset->DescribePool(&context, request, &report);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return report;
  }

  // The pool's items as JSON lines, in (source, shot) order.
  std::string Manifest(Daemon& d, int64_t run_id) {
    grpc::ClientContext context;
    v1::ExportManifestRequest request;
    request.set_run_id(run_id);
    v1::ExportManifestResponse response;
    grpc::Status status = d.dataset->ExportManifest(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.content();
  }

  std::string data_dir_;
};

// The pool as a comparable text: per item, in order, everything a build
// decides (the shot, its frames, kept or why dropped, pHash, crop, scale),
// with what differs between two builds of copies of the same films left
// out: folders, item and artifact ids.
std::string Comparable(const std::string& jsonl) {
  std::string out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json item = nlohmann::json::parse(line);
    item["source"] = fs::path(item["source"].get<std::string>()).filename().string();
    item.erase("id");
    item.erase("image_artifact");
    for (auto& reason : item["drop_reasons"]) reason.erase("detail");  // names the item it duplicates by id
    out += item.dump() + "\n";
  }
  return out;
}

TEST_F(JobRestartTest, AfterAKillQueuedBuildsRunTheRunningOneResumesAndAClientsRunIsUntouched) {
  Daemon d(data_dir_);
  ASSERT_NO_FATAL_FAILURE(d.Start());
  // A client's run: a training script logging through the API.
  v1::Run client_run;
  {
    grpc::ClientContext experiment_context;
    v1::CreateExperimentRequest experiment;
    experiment.set_name("training");
    v1::Experiment created;
    ASSERT_TRUE(d.experiments->CreateExperiment(&experiment_context, experiment, &created).ok());
    grpc::ClientContext context;
    v1::CreateRunRequest request;
    request.set_experiment_name("training");
    ASSERT_TRUE(d.experiments->CreateRun(&context, request, &client_run).ok());
  }
  const int64_t a = SubmitBuild(d, "a");
  const int64_t b = SubmitBuild(d, "b");
  const int64_t c = SubmitBuild(d, "c");
  EXPECT_EQ(GetJob(d, b).state(), v1::JOB_QUEUED);
  EXPECT_EQ(GetJob(d, c).state(), v1::JOB_QUEUED);

  // Kill once the first build has recorded some of its films, not all.
  int64_t run_a = 0;
  for (int i = 0; i < 1200; ++i) {
    const v1::Job job = GetJob(d, a);
    run_a = job.run_id();
    if (run_a > 0 && Describe(d, run_a).sources_done() >= 1) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GT(run_a, 0);
  const int64_t done_before = Describe(d, run_a).sources_done();
  ASSERT_GE(done_before, 1);
  ASSERT_LT(done_before, kFilms) << "the build finished before the kill; the test needs more films";
  d.Kill();

  ASSERT_NO_FATAL_FAILURE(d.Start());
  const v1::Job resumed = AwaitEnd(d, a);
  EXPECT_EQ(resumed.state(), v1::JOB_FINISHED) << resumed.error();
  EXPECT_EQ(resumed.attempts(), 2);
  EXPECT_EQ(resumed.auto_retries(), 1);
  EXPECT_EQ(resumed.run_id(), run_a);
  for (int64_t id : {b, c}) {
    const v1::Job job = AwaitEnd(d, id);
    EXPECT_EQ(job.state(), v1::JOB_FINISHED) << job.error();
    EXPECT_EQ(job.attempts(), 1);
  }
  const v1::Run run = testing::GetRun(*d.experiments, run_a);
  EXPECT_EQ(run.status(), v1::FINISHED);
  EXPECT_THAT(run.notes(), HasSubstr("found interrupted at "));
  EXPECT_THAT(run.notes(), HasSubstr("\nresumed at "));
  EXPECT_EQ(testing::GetRun(*d.experiments, client_run.id()).status(), v1::RUNNING);

  // The same films built without interruption give the same pool.
  const int64_t whole = SubmitBuild(d, "whole");
  const v1::Job uninterrupted = AwaitEnd(d, whole);
  ASSERT_EQ(uninterrupted.state(), v1::JOB_FINISHED) << uninterrupted.error();
  const v1::PoolReport report_a = Describe(d, run_a), report_whole = Describe(d, uninterrupted.run_id());
  EXPECT_EQ(report_a.sources_done(), kFilms);
  EXPECT_EQ(report_a.items(), report_whole.items());
  EXPECT_EQ(report_a.kept(), report_whole.kept());
  const std::string pool_a = Comparable(Manifest(d, run_a));
  EXPECT_EQ(pool_a, Comparable(Manifest(d, uninterrupted.run_id())));
  EXPECT_EQ(std::count(pool_a.begin(), pool_a.end(), '\n'), report_whole.items());

  // A finished job cannot be retried.
  grpc::ClientContext context;
  v1::RetryJobRequest retry;
  retry.set_job_id(a);
  v1::RetryJobResponse retried;
  const grpc::Status refused = d.jobs->RetryJob(&context, retry, &retried);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("is finished"));
}

// The adapter tensors of a training job's stored LoRA file, by key.
std::map<std::string, at::Tensor> AdapterOf(const v1::Job& job, v1::ExperimentService::Stub& experiments) {
  grpc::ClientContext context;
  v1::ListArtifactsRequest request;
  request.set_run_id(job.run_id());
  v1::ListArtifactsResponse response;
  EXPECT_TRUE(experiments.ListArtifacts(&context, request, &response).ok());
  std::map<std::string, at::Tensor> out;
  for (const v1::ArtifactRef& a : response.artifacts()) {
    if (a.kind() != "lora") continue;
    auto file = core::SafetensorsFile::Open(a.uri().substr(std::string("file://").size()));
    EXPECT_TRUE(file.ok()) << file.status();
    if (!file.ok()) return out;
    for (const std::string& name : file->names()) out[name] = *file->Load(name);
  }
  return out;
}

// A training job killed with SIGKILL mid-way resumes by itself after the
// restart, from its last checkpoint, and ends with the adapter an
// uninterrupted run of the same config ends with, to the bit; the steps it
// redid are logged once.
TEST_F(JobRestartTest, AKilledTrainingResumesByItselfToTheSameAdapterAsAnUninterruptedOne) {
  cv::RNG rng(5);
  for (const char* set : {"inst", "cls"}) {
    fs::create_directories(fs::path(data_dir_) / set);
    for (int i = 0; i < 2; ++i) {
      cv::Mat image(48, 48, CV_8UC3);
      rng.fill(image, cv::RNG::UNIFORM, 0, 255);
      cv::imwrite((fs::path(data_dir_) / set / (std::to_string(i) + ".png")).string(), image);
    }
  }
  v1::StartTrainingRequest request;
  v1::TrainConfig* c = request.mutable_config();
  c->set_base_model(core::ReferencePath("tiny_sd"));
  c->set_instance_dir(data_dir_ + "/inst");
  c->set_class_dir(data_dir_ + "/cls");
  c->set_resolution(32);
  c->set_max_train_steps(60);
  c->set_checkpointing_steps(5);
  c->set_learning_rate(1e-2);
  c->set_seed(3);
  auto start = [&](Daemon& d) {
    grpc::ClientContext context;
    v1::StartTrainingResponse response;
    grpc::Status status = d.trainer->StartTraining(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.job_id();
  };
  auto loss_points = [&](Daemon& d, int64_t run_id) -> int64_t {
    grpc::ClientContext context;
    v1::GetMetricHistoryRequest history;
    history.set_run_id(run_id);
    history.set_key("loss");
    v1::GetMetricHistoryResponse response;
    if (!d.experiments->GetMetricHistory(&context, history, &response).ok()) return 0;
    return response.total_points();
  };

  Daemon d(data_dir_);
  ASSERT_NO_FATAL_FAILURE(d.Start());
  const int64_t killed = start(d);
  int64_t run = 0;
  for (int i = 0; i < 2400; ++i) {
    run = GetJob(d, killed).run_id();
    if (run > 0 && loss_points(d, run) >= 12) break;
    std::this_thread::sleep_for(25ms);
  }
  const int64_t before = loss_points(d, run);
  ASSERT_GE(before, 12);
  ASSERT_LT(before, 60) << "the training finished before the kill";
  d.Kill();

  ASSERT_NO_FATAL_FAILURE(d.Start());
  const v1::Job resumed = AwaitEnd(d, killed);
  ASSERT_EQ(resumed.state(), v1::JOB_FINISHED) << resumed.error();
  EXPECT_EQ(resumed.attempts(), 2);
  EXPECT_EQ(resumed.auto_retries(), 1);
  EXPECT_EQ(loss_points(d, run), 60);  // the steps redone after the checkpoint are logged once
  const v1::Job straight = AwaitEnd(d, start(d));
  ASSERT_EQ(straight.state(), v1::JOB_FINISHED) << straight.error();
  const auto a = AdapterOf(resumed, *d.experiments), b = AdapterOf(straight, *d.experiments);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

}  // namespace
}  // namespace dreamshot

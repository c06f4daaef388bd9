// Starts an in-process dreamshotd on a free loopback port with a fresh data
// directory, and makes stubs for it.
#ifndef DREAMSHOT_TESTS_SERVICE_TEST_UTIL_H_
#define DREAMSHOT_TESTS_SERVICE_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/job.grpc.pb.h"
#include "services/server.h"

namespace dreamshot::testing {

inline std::string FreshDataDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string dir = std::string(::testing::TempDir()) + "/" + name + "-" +
                          std::to_string(::getpid()) + "-" + std::to_string(counter++);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return dir;
}

inline std::unique_ptr<services::DreamshotServer> StartServer(
    const std::string& data_dir, const std::string& token = "",
    const std::function<void(services::ServerOptions&)>& adjust = nullptr) {
  services::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.data_dir = data_dir;
  options.auth_token = token;
  options.max_message_bytes = 4 << 20;
  if (adjust) adjust(options);
  auto server = services::DreamshotServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

inline std::shared_ptr<grpc::Channel> ChannelTo(const services::DreamshotServer& server) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server.port()),
                                   grpc::InsecureChannelCredentials(), args);
}

// The run as ExperimentService returns it (a failed call is a test failure).
inline v1::Run GetRun(v1::ExperimentService::Stub& experiments, int64_t id) {
  grpc::ClientContext context;
  v1::GetRunRequest request;
  request.set_run_id(id);
  v1::Run run;
  EXPECT_TRUE(experiments.GetRun(&context, request, &run).ok()) << "run " << id;
  return run;
}

// A run's artifacts as ExperimentService lists them (a failed call is a
// test failure).
inline std::vector<v1::ArtifactRef> ListArtifacts(v1::ExperimentService::Stub& experiments, int64_t run_id) {
  grpc::ClientContext context;
  v1::ListArtifactsRequest request;
  request.set_run_id(run_id);
  v1::ListArtifactsResponse response;
  EXPECT_TRUE(experiments.ListArtifacts(&context, request, &response).ok()) << "run " << run_id;
  return {response.artifacts().begin(), response.artifacts().end()};
}

// The job as JobService returns it (a failed call is a test failure).
inline v1::Job GetJob(v1::JobService::Stub& jobs, int64_t id) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_job_id(id);
  v1::Job job;
  EXPECT_TRUE(jobs.GetJob(&context, request, &job).ok()) << "job " << id;
  return job;
}

// A new run in `experiment` (created when missing), through ExperimentService.
inline v1::Run CreateRun(v1::ExperimentService::Stub& experiments, const std::string& experiment,
                         const std::string& name) {
  {
    grpc::ClientContext context;
    v1::CreateExperimentRequest create;
    create.set_name(experiment);
    v1::Experiment created;
    (void)experiments.CreateExperiment(&context, create, &created);  // ALREADY_EXISTS is fine
  }
  grpc::ClientContext context;
  v1::CreateRunRequest request;
  request.set_experiment_name(experiment);
  request.set_name(name);
  v1::Run run;
  const grpc::Status status = experiments.CreateRun(&context, request, &run);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return run;
}

}  // namespace dreamshot::testing

#endif  // DREAMSHOT_TESTS_SERVICE_TEST_UTIL_H_

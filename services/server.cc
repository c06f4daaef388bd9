#include "services/server.h"

#include <grpcpp/grpcpp.h>
#include <limits.h>
#include <stdlib.h>

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/file_lock.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/model_cache.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_writes.h"
#include "experiments/store.h"
#include "experiments/store_set.h"
#include "jobs/job_runner.h"
#include "services/bearer_auth.h"
#include "services/dataset_service.h"
#include "services/experiment_service.h"
#include "services/generator_service.h"
#include "services/dataset_jobs.h"
#include "services/generate_job.h"
#include "services/job_service.h"
#include "services/train_job.h"
#include "services/train_sweep_group.h"
#include "services/train_sweep_stop.h"
#include "services/trainer_service.h"
#include "services/rpc_guard.h"
#include "services/survey_service.h"
#include "services/survey_web.h"

namespace dreamshot::services {
namespace {

absl::StatusOr<std::string> AbsolutePath(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot resolve ", path));
  }
  return std::string(resolved);
}

}  // namespace

DreamshotServer::DreamshotServer() = default;

DreamshotServer::~DreamshotServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<DreamshotServer>> DreamshotServer::Start(const ServerOptions& options) {
  auto server = std::unique_ptr<DreamshotServer>(new DreamshotServer());
  RETURN_IF_ERROR(core::MakeDirectories(options.data_dir));
  ASSIGN_OR_RETURN(const std::string data_dir, AbsolutePath(options.data_dir));
  server->store_path_ = options.store_path.empty() ? data_dir + "/experiments.db" : options.store_path;
  // Every name of the store file meets one lock: symlinks, hard links, bind mounts.
  ASSIGN_OR_RETURN(server->lock_, core::FileLock::AcquireFile(server->store_path_));
  ASSIGN_OR_RETURN(server->store_, experiments::ExperimentStore::Open(server->store_path_));
  server->stores_ = std::make_unique<experiments::StoreSet>(server->store_.get());
  experiments::StoreSet& stores = *server->stores_;
  // Blob files are noted in the store before they are written, so that the
  // files of failed or crashed writes can be found: the sweep removes them
  // while no job can be writing (best effort; notes left wait for the next start).
  server->blobs_ = std::make_unique<experiments::ArtifactBlobs>(
      data_dir + "/artifacts", [artifacts = stores.artifacts()](const std::string& sha256) {
        return artifacts->NoteBlobWrite(sha256);
      });
  (void)experiments::SweepUnrecordedBlobs(*stores.artifacts(), *server->blobs_);
  server->guard_ = std::make_unique<RpcGuard>(options.auth_token);
  ExperimentServiceOptions experiment_options;
  experiment_options.max_artifact_bytes = options.max_artifact_bytes;
  server->experiment_service_ = std::make_unique<ExperimentServiceImpl>(
      server->store_.get(), stores.artifacts(), server->blobs_.get(), server->guard_.get(), experiment_options);
  server->model_cache_ = std::make_unique<diffusion::ModelCache>(options.model_cache_bytes);
  jobs::RunnerOptions runner_options;
  runner_options.capacity = options.queue_capacity;
  runner_options.default_concurrency = options.jobs_per_device;
  runner_options.max_auto_retries = options.max_auto_retries;
  // A pool build analyses its sources on threads of its own: one at a time.
  runner_options.concurrency[kBuildLane] = 1;
  server->runner_ = std::make_unique<jobs::JobRunner>(server->store_.get(), runner_options);
  jobs::JobRunner& runner = *server->runner_;
  runner.Register(GenerateJobKind(stores.artifacts(), server->blobs_.get(), server->model_cache_.get()));
  runner.Register(PairsJobKind(stores.artifacts(), stores.pairs(), server->blobs_.get(), server->model_cache_.get()));
  runner.Register(BuildPoolJobKind(stores.datasets(), server->blobs_.get()));
  runner.Register(DetectShotsJobKind());
  auto early_stops = std::make_shared<EarlyStopRequests>();
  runner.Register(TrainJobKind({stores.runs(), stores.artifacts(), stores.datasets(), server->blobs_.get(),
                                server->model_cache_.get(), data_dir + "/training", data_dir + "/cache",
                                early_stops}));
  runner.Register(TrainGroupKind(kSweepJob));
  runner.Register(TrainGroupKind(kTrainScalesJob));
  auto early_stop = std::make_shared<SweepEarlyStop>(stores.runs(), &runner, early_stops);
  runner.AddProgressListener([early_stop](const experiments::JobRecord& job, int64_t run_id,
                                          const google::protobuf::Message& progress) {
    early_stop->OnProgress(job, run_id, progress);
  });
  // We hold the store's lock, so nobody else is driving these jobs: running
  // ones were interrupted; queued ones start now.
  ASSIGN_OR_RETURN(server->recovery_, runner.Start());
  server->generator_service_ =
      std::make_unique<GeneratorServiceImpl>(server->store_.get(), &runner, server->guard_.get());
  server->dataset_service_ =
      std::make_unique<DatasetServiceImpl>(server->store_.get(), stores.datasets(), &runner, server->guard_.get());
  server->job_service_ = std::make_unique<JobServiceImpl>(&runner, server->guard_.get());
  server->trainer_service_ = std::make_unique<TrainerServiceImpl>(
      stores.runs(), TrainInputs{stores.datasets(), stores.artifacts()}, &runner, server->guard_.get());

  grpc::ServerBuilder builder;
  // The token is checked on the headers, before gRPC reads a message.
  builder.AddListeningPort(options.listen_address, ListenerCredentials(server->guard_.get()), &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_send_message_bytes);
  builder.RegisterService(server->experiment_service_.get());
  builder.RegisterService(server->generator_service_.get());
  server->survey_service_ =
      std::make_unique<SurveyServiceImpl>(stores.all(), server->blobs_.get(), server->guard_.get());
  builder.RegisterService(server->dataset_service_.get());
  builder.RegisterService(server->survey_service_.get());
  builder.RegisterService(server->job_service_.get());
  builder.RegisterService(server->trainer_service_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, " (address in use or invalid?)"));
  }
  if (!options.survey_listen.empty()) {
    const size_t colon = options.survey_listen.rfind(':');
    SurveyWebOptions web = options.survey_web;
    web.host = options.survey_listen.substr(0, colon);
    // "[::1]:8080": an IPv6 host comes in brackets.
    if (web.host.size() >= 2 && web.host.front() == '[' && web.host.back() == ']') {
      web.host = web.host.substr(1, web.host.size() - 2);
    }
    if (colon == std::string::npos || !absl::SimpleAtoi(options.survey_listen.substr(colon + 1), &web.port) ||
        web.port < 0 || web.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("survey address must be host:port, got '", options.survey_listen, "'"));
    }
    ASSIGN_OR_RETURN(server->survey_web_, SurveyWebServer::Start(stores.surveys(), stores.artifacts(), web));
    server->survey_service_->SetParticipantAddress(web.host, server->survey_web_->port());
  }
  return server;
}

int DreamshotServer::survey_port() const { return survey_web_ ? survey_web_->port() : 0; }

HttpFrontCounters DreamshotServer::survey_counters() const {
  return survey_web_ ? survey_web_->counters() : HttpFrontCounters{};
}

// In order, each step before what it depends on goes away: no new
// participant requests (those in flight finish); no new jobs, running ones
// stopped at their next step and awaited (recorded interrupted; resumable
// ones and queued ones stay queued for the next start), so their runs end
// and their streams close while gRPC still exists; then gRPC stops
// (in-flight unary calls get a moment, watches are cancelled). The store
// closes last, when the members are destroyed.
void DreamshotServer::Shutdown() {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (survey_web_) survey_web_->Stop();
  if (runner_) runner_->Shutdown();
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
}

}  // namespace dreamshot::services

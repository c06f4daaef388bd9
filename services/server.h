// Wires the store and the services into one gRPC server. dreamshotd's main
// and the in-process service tests both start servers through this.
#ifndef DREAMSHOT_SERVICES_SERVER_H_
#define DREAMSHOT_SERVICES_SERVER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "jobs/job_runner.h"
#include "services/survey_web.h"

namespace grpc {
class Server;
}

namespace dreamshot::core {
class FileLock;
}  // namespace dreamshot::core

namespace dreamshot::diffusion {
class ModelCache;
}

namespace dreamshot::experiments {
class ArtifactBlobs;
class ExperimentStore;
class StoreSet;
}  // namespace dreamshot::experiments

namespace dreamshot::services {

class DatasetServiceImpl;
class ExperimentServiceImpl;
class GeneratorServiceImpl;
class JobServiceImpl;
class TrainerServiceImpl;
class RpcGuard;
class SurveyServiceImpl;

struct ServerOptions {
  std::string listen_address = "127.0.0.1:50051";  // port 0 picks a free port
  std::string data_dir = "dreamshot-data";         // holds experiments.db and artifacts/
  std::string store_path;                          // default: <data_dir>/experiments.db
  std::string auth_token;                          // empty: no authentication
  // The largest request message, enforced by gRPC before any service code
  // runs. Small, because files have a stream (UploadArtifact) that holds
  // one 1 MiB chunk at a time. gRPC 1.51 checks it only once it has
  // received the whole message, so it limits what a call can make the
  // services parse, not what the transport buffers; calls without the
  // token are refused on their headers before that (services/bearer_auth.h).
  int max_message_bytes = 4 << 20;
  // The largest response message (exported manifests and survey CSVs are
  // single messages).
  int max_send_message_bytes = 64 << 20;
  // The largest artifact UploadArtifact accepts.
  int64_t max_artifact_bytes = int64_t{4096} << 20;
  // Loaded models kept for reuse (SD 1.5 in fp32 is ~4 GiB).
  int64_t model_cache_bytes = int64_t{12} << 30;
  // Jobs waiting or running per device before RESOURCE_EXHAUSTED.
  int queue_capacity = 16;
  // Jobs running at once per device (a pool build lane always runs one).
  int jobs_per_device = 1;
  // Times an interrupted resumable job (a pool build) is queued again by
  // itself before it waits for `dreamshot jobs retry`.
  int max_auto_retries = 3;
  // The survey's participant pages (HTTP), "host:port" (port 0: any free
  // port); empty: not served.
  std::string survey_listen;
  // The survey pages' limits and threads (host and port come from
  // survey_listen). The defaults protect a public server; a loopback load
  // test turns the per-address rate limits up.
  SurveyWebOptions survey_web;
};

class DreamshotServer {
 public:
  // Opens (and locks) the store, fails runs a dead server left running, and
  // starts listening.
  static absl::StatusOr<std::unique_ptr<DreamshotServer>> Start(const ServerOptions& options);
  ~DreamshotServer();

  int port() const { return port_; }
  // The survey pages' HTTP port; 0 when not served.
  int survey_port() const;
  // The survey pages' connection counters (services/http_front.h).
  HttpFrontCounters survey_counters() const;
  const std::string& store_path() const { return store_path_; }
  // Server runs a dead predecessor left running, now ended failed.
  int64_t recovered_runs() const { return recovery_.failed_runs; }
  // What the start found: interrupted jobs, resumed ones, queued ones.
  const jobs::RecoveryReport& recovery() const { return recovery_; }
  // Stops everything in order (see server.cc); safe to call more than once
  // and from any thread but a job's.
  void Shutdown();

 private:
  DreamshotServer();

  std::mutex shutdown_mu_;
  std::string store_path_;
  int port_ = 0;
  jobs::RecoveryReport recovery_;
  std::unique_ptr<core::FileLock> lock_;
  std::unique_ptr<experiments::ExperimentStore> store_;  // the run store; owns the database
  std::unique_ptr<experiments::StoreSet> stores_;        // the other concepts' stores over it
  std::unique_ptr<experiments::ArtifactBlobs> blobs_;
  std::unique_ptr<RpcGuard> guard_;
  std::unique_ptr<diffusion::ModelCache> model_cache_;
  std::unique_ptr<jobs::JobRunner> runner_;  // outlives the server: its jobs finish streams
  std::unique_ptr<ExperimentServiceImpl> experiment_service_;
  std::unique_ptr<GeneratorServiceImpl> generator_service_;
  std::unique_ptr<DatasetServiceImpl> dataset_service_;
  std::unique_ptr<SurveyServiceImpl> survey_service_;
  std::unique_ptr<JobServiceImpl> job_service_;
  std::unique_ptr<TrainerServiceImpl> trainer_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<SurveyWebServer> survey_web_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SERVER_H_

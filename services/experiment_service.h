// ExperimentService over the SQLite experiment store.
#ifndef DREAMSHOT_SERVICES_EXPERIMENT_SERVICE_H_
#define DREAMSHOT_SERVICES_EXPERIMENT_SERVICE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/store.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

struct ExperimentServiceOptions {
  int max_concurrent_watches = 64;
  // How often a watch re-reads the store when nothing in this process
  // changed (another process may be writing).
  std::chrono::milliseconds watch_poll = std::chrono::milliseconds(500);
  int max_compare_runs = 50;
  int max_aggregate_runs = 10000;
  // Bytes per GetArtifact message (under the client's 4 MiB default limit).
  size_t artifact_chunk_bytes = size_t{1} << 20;
  // UploadArtifact: the largest chunk a message may carry, and the largest
  // artifact (dreamshotd's --max_artifact_mb).
  size_t max_upload_chunk_bytes = size_t{1} << 20;
  int64_t max_artifact_bytes = int64_t{4096} << 20;
};

class ExperimentServiceImpl final : public v1::ExperimentService::CallbackService {
 public:
  ExperimentServiceImpl(experiments::ExperimentStore* store, experiments::ArtifactStore* artifacts,
                        experiments::ArtifactBlobs* blobs, const RpcGuard* guard,
                        ExperimentServiceOptions options = {});

  grpc::ServerUnaryReactor* CreateExperiment(grpc::CallbackServerContext* context,
                                             const v1::CreateExperimentRequest* request,
                                             v1::Experiment* response) override;
  grpc::ServerUnaryReactor* GetExperiment(grpc::CallbackServerContext* context,
                                          const v1::GetExperimentRequest* request,
                                          v1::Experiment* response) override;
  grpc::ServerUnaryReactor* ListExperiments(grpc::CallbackServerContext* context,
                                            const v1::ListExperimentsRequest* request,
                                            v1::ListExperimentsResponse* response) override;
  grpc::ServerUnaryReactor* CreateRun(grpc::CallbackServerContext* context,
                                      const v1::CreateRunRequest* request, v1::Run* response) override;
  grpc::ServerUnaryReactor* GetRun(grpc::CallbackServerContext* context,
                                   const v1::GetRunRequest* request, v1::Run* response) override;
  grpc::ServerUnaryReactor* UpdateRun(grpc::CallbackServerContext* context,
                                      const v1::UpdateRunRequest* request, v1::Run* response) override;
  grpc::ServerUnaryReactor* SetTags(grpc::CallbackServerContext* context,
                                    const v1::SetTagsRequest* request, v1::Run* response) override;
  grpc::ServerUnaryReactor* LogParams(grpc::CallbackServerContext* context,
                                      const v1::LogParamsRequest* request,
                                      v1::LogParamsResponse* response) override;
  grpc::ServerUnaryReactor* LogMetrics(grpc::CallbackServerContext* context,
                                       const v1::LogMetricsRequest* request,
                                       v1::LogMetricsResponse* response) override;
  grpc::ServerUnaryReactor* GetMetricHistory(grpc::CallbackServerContext* context,
                                             const v1::GetMetricHistoryRequest* request,
                                             v1::GetMetricHistoryResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchMetricsResponse>* WatchMetrics(
      grpc::CallbackServerContext* context, const v1::WatchMetricsRequest* request) override;
  grpc::ServerUnaryReactor* LogArtifact(grpc::CallbackServerContext* context,
                                        const v1::LogArtifactRequest* request,
                                        v1::ArtifactRef* response) override;
  grpc::ServerReadReactor<v1::UploadArtifactRequest>* UploadArtifact(grpc::CallbackServerContext* context,
                                                                     v1::ArtifactRef* response) override;
  grpc::ServerUnaryReactor* ListArtifacts(grpc::CallbackServerContext* context,
                                          const v1::ListArtifactsRequest* request,
                                          v1::ListArtifactsResponse* response) override;
  grpc::ServerWriteReactor<v1::GetArtifactResponse>* GetArtifact(grpc::CallbackServerContext* context,
                                                                 const v1::GetArtifactRequest* request) override;
  grpc::ServerUnaryReactor* SearchRuns(grpc::CallbackServerContext* context,
                                       const v1::SearchRunsRequest* request,
                                       v1::SearchRunsResponse* response) override;
  grpc::ServerUnaryReactor* CompareRuns(grpc::CallbackServerContext* context,
                                        const v1::CompareRunsRequest* request,
                                        v1::CompareRunsResponse* response) override;
  grpc::ServerUnaryReactor* AggregateRuns(grpc::CallbackServerContext* context,
                                          const v1::AggregateRunsRequest* request,
                                          v1::AggregateRunsResponse* response) override;

 private:
  experiments::ExperimentStore* store_;
  experiments::ArtifactStore* artifacts_;
  experiments::ArtifactBlobs* blobs_;
  const RpcGuard* guard_;
  ExperimentServiceOptions options_;
  // Shared with watch threads, which may outlive a call by a poll interval.
  std::shared_ptr<std::atomic<int>> active_watches_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_EXPERIMENT_SERVICE_H_

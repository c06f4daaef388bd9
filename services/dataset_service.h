// DatasetService: shot detection on one video and pool builds (jobs, see
// services/dataset_jobs.h; a build has a run and resumes), and the pool's
// labels, captions, splits, manifests and report in the experiment store.
#ifndef DREAMSHOT_SERVICES_DATASET_SERVICE_H_
#define DREAMSHOT_SERVICES_DATASET_SERVICE_H_

#include "dreamshot/v1/dataset.grpc.pb.h"
#include "experiments/dataset_store.h"
#include "experiments/store.h"
#include "jobs/job_runner.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

class DatasetServiceImpl final : public v1::DatasetService::CallbackService {
 public:
  // `store` holds the builds' runs, `datasets` their pools.
  DatasetServiceImpl(experiments::ExperimentStore* store, experiments::DatasetStore* datasets, jobs::JobRunner* runner,
                     const RpcGuard* guard)
      : store_(store), datasets_(datasets), runner_(runner), guard_(guard) {}

  grpc::ServerUnaryReactor* DetectShots(grpc::CallbackServerContext* context, const v1::DetectShotsRequest* request,
                                        v1::DetectShotsResponse* response) override;
  grpc::ServerWriteReactor<v1::BuildPoolResponse>* BuildPool(grpc::CallbackServerContext* context,
                                                             const v1::BuildPoolRequest* request) override;
  grpc::ServerUnaryReactor* DescribePool(grpc::CallbackServerContext* context,
                                         const v1::DescribePoolRequest* request, v1::PoolReport* response) override;

  grpc::ServerUnaryReactor* DrawSplits(grpc::CallbackServerContext* context, const v1::DrawSplitsRequest* request,
                                       v1::DrawSplitsResponse* response) override;
  grpc::ServerUnaryReactor* ExportManifest(grpc::CallbackServerContext* context,
                                           const v1::ExportManifestRequest* request,
                                           v1::ExportManifestResponse* response) override;
  grpc::ServerUnaryReactor* ImportLabels(grpc::CallbackServerContext* context, const v1::ImportRequest* request,
                                         v1::ImportResponse* response) override;
  grpc::ServerUnaryReactor* ImportCaptions(grpc::CallbackServerContext* context, const v1::ImportRequest* request,
                                           v1::ImportResponse* response) override;

 private:
  experiments::ExperimentStore* store_;
  experiments::DatasetStore* datasets_;
  jobs::JobRunner* runner_;
  const RpcGuard* guard_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_DATASET_SERVICE_H_

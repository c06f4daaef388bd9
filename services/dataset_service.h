// DatasetService: shot detection on one video, and the splits and manifests
// of a dataset-building run's pool in the experiment store.
#ifndef DREAMSHOT_SERVICES_DATASET_SERVICE_H_
#define DREAMSHOT_SERVICES_DATASET_SERVICE_H_

#include "dreamshot/v1/dataset.grpc.pb.h"
#include "experiments/store.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

class DatasetServiceImpl final : public v1::DatasetService::CallbackService {
 public:
  DatasetServiceImpl(experiments::ExperimentStore* store, const RpcGuard* guard) : store_(store), guard_(guard) {}

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
  const RpcGuard* guard_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_DATASET_SERVICE_H_

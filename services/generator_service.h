// GeneratorService: text-to-image requests and A/B pairs, run as jobs on the
// device's work queue, with models from the shared cache. Each request's
// images are stored as artifacts of a run (a new run in an experiment, or
// one the caller names) and streamed back as they are stored.
#ifndef DREAMSHOT_SERVICES_GENERATOR_SERVICE_H_
#define DREAMSHOT_SERVICES_GENERATOR_SERVICE_H_

#include <cstdint>
#include <functional>

#include "core/device_queues.h"
#include "diffusion/pipeline/model_cache.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "experiments/artifact_blobs.h"
#include "experiments/store.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

struct GeneratorServiceOptions {
  // Seeds for requests that give none; tests make it deterministic.
  std::function<uint64_t()> draw_seed;
};

class GeneratorServiceImpl final : public v1::GeneratorService::CallbackService {
 public:
  GeneratorServiceImpl(experiments::ExperimentStore* store, experiments::ArtifactBlobs* blobs,
                       diffusion::ModelCache* models, core::DeviceQueues* queues, const RpcGuard* guard,
                       GeneratorServiceOptions options = {});

  grpc::ServerWriteReactor<v1::GenerateResponse>* Generate(grpc::CallbackServerContext* context,
                                                           const v1::GenerateRequest* request) override;
  grpc::ServerWriteReactor<v1::GeneratePairsResponse>* GeneratePairs(
      grpc::CallbackServerContext* context, const v1::GeneratePairsRequest* request) override;

 private:
  experiments::ExperimentStore* store_;
  experiments::ArtifactBlobs* blobs_;
  diffusion::ModelCache* models_;
  core::DeviceQueues* queues_;
  const RpcGuard* guard_;
  GeneratorServiceOptions options_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_GENERATOR_SERVICE_H_

// GeneratorService: text-to-image requests and A/B pairs. A request is
// validated (models, settings, seeds drawn), submitted as a job on its
// device's lane (services/generate_job.h runs it) and streamed back as the
// job stores each image as an artifact of its run (a new run in an
// experiment, or one the caller names).
#ifndef DREAMSHOT_SERVICES_GENERATOR_SERVICE_H_
#define DREAMSHOT_SERVICES_GENERATOR_SERVICE_H_

#include <cstdint>
#include <functional>

#include "dreamshot/v1/generator.grpc.pb.h"
#include "experiments/store.h"
#include "jobs/job_runner.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

struct GeneratorServiceOptions {
  // Seeds for requests that give none; tests make it deterministic.
  std::function<uint64_t()> draw_seed;
};

class GeneratorServiceImpl final : public v1::GeneratorService::CallbackService {
 public:
  GeneratorServiceImpl(experiments::ExperimentStore* store, jobs::JobRunner* runner, const RpcGuard* guard,
                       GeneratorServiceOptions options = {});

  grpc::ServerWriteReactor<v1::GenerateResponse>* Generate(grpc::CallbackServerContext* context,
                                                           const v1::GenerateRequest* request) override;
  grpc::ServerWriteReactor<v1::GeneratePairsResponse>* GeneratePairs(
      grpc::CallbackServerContext* context, const v1::GeneratePairsRequest* request) override;

 private:
  experiments::ExperimentStore* store_;
  jobs::JobRunner* runner_;
  const RpcGuard* guard_;
  GeneratorServiceOptions options_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_GENERATOR_SERVICE_H_

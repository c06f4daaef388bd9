#include "services/generator_service.h"

#include <cctype>
#include <mutex>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "services/config_flatten.h"
#include "services/generate_job.h"
#include "services/generator_convert.h"
#include "services/job_submit.h"

namespace dreamshot::services {
namespace {

constexpr char kDefaultExperiment[] = "generations";

std::function<uint64_t()> DefaultSeedSource() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [engine, mu] {
    std::lock_guard<std::mutex> lock(*mu);
    return (*engine)() & 0xFFFFFFFFull;  // A1111-style 32-bit seeds
  };
}

absl::Status CheckLabel(const std::string& label, const char* side) {
  if (label.empty() || label.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat("side ", side, ": a label needs 1 to 64 characters"));
  }
  for (char c : label) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return absl::InvalidArgumentError(absl::StrCat("side ", side, ": label '", label,
                                                     "' may hold letters, digits, '-', '_' and '.' only"));
    }
  }
  return absl::OkStatus();
}

// The device both sides of a pair run on must be one: they share a queue.
absl::Status SameDevice(const diffusion::ModelChoice& a, const diffusion::ModelChoice& b) {
  if (a.base.spec.device != b.base.spec.device) {
    return absl::InvalidArgumentError(absl::StrCat("sides a and b must run on one device, got ",
                                                   a.base.spec.device.str(), " and ", b.base.spec.device.str()));
  }
  return absl::OkStatus();
}

}  // namespace

GeneratorServiceImpl::GeneratorServiceImpl(experiments::ExperimentStore* store, jobs::JobRunner* runner, const RpcGuard* guard,
                                           GeneratorServiceOptions options)
    : store_(store), runner_(runner), guard_(guard), options_(std::move(options)) {
  if (!options_.draw_seed) options_.draw_seed = DefaultSeedSource();
}

grpc::ServerWriteReactor<v1::GenerateResponse>* GeneratorServiceImpl::Generate(grpc::CallbackServerContext* context,
                                                                                const v1::GenerateRequest* request) {
  using Response = v1::GenerateResponse;
  absl::Status status = guard_->Authenticate(*context);
  if (!status.ok()) return Refuse<Response>(status);
  v1::GenerationRequest generation = request->generation();
  absl::StatusOr<diffusion::ModelChoice> model = FromProto(generation.model(), "generation.model");
  if (!model.ok()) return Refuse<Response>(model.status());
  absl::StatusOr<GenerationSettings> settings = ResolveSettings(&generation, options_.draw_seed);
  if (!settings.ok()) return Refuse<Response>(settings.status());
  status = CheckAgainstModel(*model, *settings, "generation.model");
  if (!status.ok()) return Refuse<Response>(status);
  absl::StatusOr<experiments::JobRunPlan> plan =
      PlanRun(store_, request->target(), generation, kGenerateJob, generation.prompt().substr(0, 80),
              kDefaultExperiment, "images");
  if (!plan.ok()) return Refuse<Response>(plan.status());
  // The job runs the request as resolved here: seeds drawn, so that a retry
  // or a restart makes the same images.
  v1::GenerateRequest resolved = *request;
  *resolved.mutable_generation() = generation;
  return SubmitAndStream<Response>(
      runner_, JobFor(kGenerateJob, model->base.spec.device.str(), resolved, *std::move(plan), request->job()),
      request->job().detach());
}

grpc::ServerWriteReactor<v1::GeneratePairsResponse>* GeneratorServiceImpl::GeneratePairs(
    grpc::CallbackServerContext* context, const v1::GeneratePairsRequest* request) {
  using Response = v1::GeneratePairsResponse;
  absl::Status status = guard_->Authenticate(*context);
  if (!status.ok()) return Refuse<Response>(status);
  v1::GeneratePairsRequest stored = *request;
  v1::GenerationRequest& generation = *stored.mutable_generation();
  if (generation.has_model() || !generation.prompt().empty()) {
    return Refuse<Response>(absl::InvalidArgumentError(
        "generation.model and generation.prompt must be unset: pairs take their models from sides a and b and "
        "their prompts from prompts"));
  }
  if (stored.prompts_size() == 0 || stored.prompts_size() > kMaxPairPrompts) {
    return Refuse<Response>(absl::InvalidArgumentError(
        absl::StrCat("give 1 to ", kMaxPairPrompts, " prompts, got ", stored.prompts_size())));
  }
  if (stored.a().label().empty()) stored.mutable_a()->set_label("a");
  if (stored.b().label().empty()) stored.mutable_b()->set_label("b");
  for (const absl::Status& s : {CheckLabel(stored.a().label(), "a"), CheckLabel(stored.b().label(), "b")}) {
    if (!s.ok()) return Refuse<Response>(s);
  }
  if (stored.a().label() == stored.b().label()) {
    return Refuse<Response>(absl::InvalidArgumentError(
        absl::StrCat("sides a and b need different labels, both are '", stored.a().label(), "'")));
  }
  absl::StatusOr<diffusion::ModelChoice> a = FromProto(stored.a().model(), "a.model");
  if (!a.ok()) return Refuse<Response>(a.status());
  absl::StatusOr<diffusion::ModelChoice> b = FromProto(stored.b().model(), "b.model");
  if (!b.ok()) return Refuse<Response>(b.status());
  status = SameDevice(*a, *b);
  if (!status.ok()) return Refuse<Response>(status);
  absl::StatusOr<GenerationSettings> settings = ResolveSettings(&generation, options_.draw_seed);
  if (!settings.ok()) return Refuse<Response>(settings.status());
  for (const absl::Status& s : {CheckAgainstModel(*a, *settings, "a.model"), CheckAgainstModel(*b, *settings, "b.model")}) {
    if (!s.ok()) return Refuse<Response>(s);
  }
  for (const v1::PairPrompt& p : stored.prompts()) {
    if (p.prompt().empty()) return Refuse<Response>(absl::InvalidArgumentError("a pair prompt is empty"));
  }
  // The prompts are in the pairs table and the config JSON; as a param
  // they would outgrow a value's limit.
  v1::GeneratePairsRequest config = stored;
  config.clear_prompts();
  config.clear_return_png();
  config.clear_target();
  config.clear_job();
  absl::StatusOr<experiments::JobRunPlan> plan =
      PlanRun(store_, stored.target(), config, kPairsJob, absl::StrCat(stored.a().label(), " vs ", stored.b().label()),
              kDefaultExperiment, "pairs");
  if (!plan.ok()) return Refuse<Response>(plan.status());
  if (plan->mode == experiments::RunMode::kNew) {
    plan->params["num_prompts"] = std::to_string(stored.prompts_size());
    absl::StatusOr<FlattenedConfig> full = FlattenConfig(stored);
    if (full.ok()) plan->config_json = full->json;
  }
  return SubmitAndStream<Response>(runner_,
                                   JobFor(kPairsJob, a->base.spec.device.str(), stored, *std::move(plan), stored.job()),
                                   stored.job().detach());
}

}  // namespace dreamshot::services

#include "services/generator_service.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/artifact_writes.h"
#include "services/config_flatten.h"
#include "services/experiment_convert.h"
#include "services/generator_convert.h"
#include "services/grpc_status.h"
#include "services/job_launch.h"
#include "services/job_stream.h"

namespace dreamshot::services {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kDefaultExperiment[] = "generations";

absl::StatusOr<experiments::Artifact> StoreImage(experiments::ExperimentStore* store,
                                                 experiments::ArtifactBlobs* blobs, int64_t run_id,
                                                 std::string path, const std::string& png) {
  experiments::Artifact artifact;
  artifact.run_id = run_id;
  artifact.kind = "image";
  artifact.path = std::move(path);
  // A file written for a row that fails (a full disk) is removed again.
  return experiments::AddArtifactBytes(*store, *blobs, std::move(artifact), png);
}

std::string Numbered(int64_t n) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%04lld", static_cast<long long>(n));
  return buffer;
}

// Turns pipeline progress into stream messages, with an estimate of the
// time left from the pace of the steps so far.
template <typename Response>
class ProgressReporter {
 public:
  ProgressReporter(JobStream<Response>* stream, int64_t run_id, const core::CancelFlag& flag)
      : stream_(stream), run_id_(run_id), flag_(flag) {}

  bool operator()(const diffusion::GenerationProgress& p) {
    const Clock::time_point now = Clock::now();
    Response message;
    message.set_run_id(run_id_);
    ToProto(p, message.mutable_progress());
    if (p.stage != "denoising") {
      paced_from_ = now;
      paced_steps_ = p.done;
    } else if (p.done > paced_steps_) {
      const double per_step = std::chrono::duration<double>(now - paced_from_).count() / (p.done - paced_steps_);
      message.mutable_progress()->set_eta_s(per_step * static_cast<double>(p.total - p.done));
    }
    stream_->Push(std::move(message), /*coalescable=*/true);
    return !flag_.cancelled();
  }

 private:
  JobStream<Response>* stream_;
  int64_t run_id_;
  const core::CancelFlag& flag_;
  Clock::time_point paced_from_ = Clock::now();
  int64_t paced_steps_ = 0;
};

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

GeneratorServiceImpl::GeneratorServiceImpl(experiments::ExperimentStore* store, experiments::ArtifactBlobs* blobs,
                                           diffusion::ModelCache* models, core::DeviceQueues* queues,
                                           const RpcGuard* guard, GeneratorServiceOptions options)
    : store_(store), blobs_(blobs), models_(models), queues_(queues), guard_(guard), options_(std::move(options)) {
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
  absl::StatusOr<RunPlan> plan =
      PlanRun(store_, request->target(), generation, "generate", generation.prompt().substr(0, 80),
                kDefaultExperiment, "images");
  if (!plan.ok()) return Refuse<Response>(plan.status());

  auto body = [store = store_, blobs = blobs_, cache = models_, model = *model, settings = *settings,
               with_png = request->return_png()](JobStream<Response>* stream, int64_t run_id,
                                                 const std::string& prefix, const core::CancelFlag& flag) {
    ProgressReporter<Response> progress(stream, run_id, flag);
    return diffusion::RenderImages(
        *cache, model, settings.request, settings.batch_size, std::ref(progress),
        [&](diffusion::RenderedImage image) -> absl::Status {
          const std::string path = absl::StrCat(prefix, "/", Numbered(image.index), "-seed", image.seed, ".png");
          ASSIGN_OR_RETURN(experiments::Artifact artifact, StoreImage(store, blobs, run_id, path, image.png));
          Response message;
          message.set_run_id(run_id);
          ToProto(image, artifact, with_png, message.mutable_image());
          stream->Push(std::move(message));
          return absl::OkStatus();
        });
  };
  return Launch<Response>(store_, queues_->For(model->base.spec.device.str()), std::move(*plan), std::move(body));
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
  diffusion::PairPlan pair_plan;
  pair_plan.a = *a;
  pair_plan.b = *b;
  pair_plan.settings = settings->request;
  pair_plan.batch_size = settings->batch_size;
  for (const v1::PairPrompt& p : stored.prompts()) {
    if (p.prompt().empty()) return Refuse<Response>(absl::InvalidArgumentError("a pair prompt is empty"));
    pair_plan.prompts.push_back({p.prompt(), p.shot_type()});
  }
  // The prompts are in the pairs table and the config JSON; as a param
  // they would outgrow a value's limit.
  v1::GeneratePairsRequest config = stored;
  config.clear_prompts();
  config.clear_return_png();
  config.clear_target();
  absl::StatusOr<RunPlan> plan = PlanRun(store_, stored.target(), config, "pairs",
                                         absl::StrCat(stored.a().label(), " vs ", stored.b().label()),
                                         kDefaultExperiment, "pairs");
  if (!plan.ok()) return Refuse<Response>(plan.status());
  if (plan->existing_run_id == 0) {
    plan->config.params["num_prompts"] = std::to_string(stored.prompts_size());
    absl::StatusOr<FlattenedConfig> full = FlattenConfig(stored);
    if (full.ok()) plan->config.json = full->json;
  }

  auto body = [store = store_, blobs = blobs_, cache = models_, pair_plan = std::move(pair_plan),
               label_a = stored.a().label(), label_b = stored.b().label(), with_png = stored.return_png()](
                  JobStream<Response>* stream, int64_t run_id, const std::string& prefix,
                  const core::CancelFlag& flag) {
    ProgressReporter<Response> progress(stream, run_id, flag);
    int64_t count = 0;
    return diffusion::RenderPairs(*cache, pair_plan, std::ref(progress),
                                  [&](diffusion::RenderedPair pair) -> absl::Status {
                                    const std::string stem = absl::StrCat(prefix, "/", Numbered(count++), "-");
                                    ASSIGN_OR_RETURN(experiments::Artifact art_a,
                                                     StoreImage(store, blobs, run_id, stem + label_a + ".png",
                                                                pair.a.png));
                                    ASSIGN_OR_RETURN(experiments::Artifact art_b,
                                                     StoreImage(store, blobs, run_id, stem + label_b + ".png",
                                                                pair.b.png));
                                    experiments::ImagePair row;
                                    row.run_id = run_id;
                                    row.prompt = pair.prompt.prompt;
                                    row.shot_type = pair.prompt.shot_type;
                                    row.seed = pair.seed;
                                    row.label_a = label_a;
                                    row.label_b = label_b;
                                    row.artifact_a = art_a.id;
                                    row.artifact_b = art_b.id;
                                    ASSIGN_OR_RETURN(experiments::ImagePair saved, store->AddImagePair(row));
                                    Response message;
                                    message.set_run_id(run_id);
                                    v1::ImagePair* out = message.mutable_pair();
                                    out->set_id(saved.id);
                                    out->set_run_id(run_id);
                                    out->set_prompt(saved.prompt);
                                    out->set_shot_type(saved.shot_type);
                                    out->set_seed(saved.seed);
                                    out->set_label_a(label_a);
                                    out->set_label_b(label_b);
                                    ToProto(pair.a, art_a, with_png, out->mutable_image_a());
                                    ToProto(pair.b, art_b, with_png, out->mutable_image_b());
                                    stream->Push(std::move(message));
                                    return absl::OkStatus();
                                  });
  };
  return Launch<Response>(store_, queues_->For(a->base.spec.device.str()), std::move(*plan), std::move(body));
}

}  // namespace dreamshot::services

#include "services/generate_job.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dreamshot/v1/generator.pb.h"
#include "experiments/artifact_writes.h"
#include "services/generator_convert.h"

namespace dreamshot::services {
namespace {

using Clock = std::chrono::steady_clock;

// Seeds were drawn when the job was submitted and stored with it.
uint64_t NoSeedLeftToDraw() { return 0; }

absl::StatusOr<experiments::Artifact> StoreImage(experiments::ArtifactStore* artifacts,
                                                 experiments::ArtifactBlobs* blobs, int64_t run_id,
                                                 std::string path, const std::string& png) {
  experiments::Artifact artifact;
  artifact.run_id = run_id;
  artifact.kind = "image";
  artifact.path = std::move(path);
  // A file written for a row that fails (a full disk) is removed again.
  return experiments::AddArtifactBytes(*artifacts, *blobs, std::move(artifact), png);
}

std::string Numbered(int64_t n) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%04lld", static_cast<long long>(n));
  return buffer;
}

// Turns pipeline progress into progress events, with an estimate of the
// time left from the pace of the steps so far.
template <typename Response>
class ProgressReporter {
 public:
  explicit ProgressReporter(const jobs::JobContext& ctx) : ctx_(ctx) {}

  bool operator()(const diffusion::GenerationProgress& p) {
    const Clock::time_point now = Clock::now();
    Response message;
    message.set_run_id(ctx_.run_id());
    ToProto(p, message.mutable_progress());
    if (p.stage != "denoising") {
      paced_from_ = now;
      paced_steps_ = p.done;
    } else if (p.done > paced_steps_) {
      const double per_step = std::chrono::duration<double>(now - paced_from_).count() / (p.done - paced_steps_);
      message.mutable_progress()->set_eta_s(per_step * static_cast<double>(p.total - p.done));
    }
    ctx_.Progress(message);
    return !ctx_.cancelled();
  }

 private:
  const jobs::JobContext& ctx_;
  Clock::time_point paced_from_ = Clock::now();
  int64_t paced_steps_ = 0;
};

absl::Status RunGenerate(experiments::ArtifactStore* artifacts, experiments::ArtifactBlobs* blobs,
                         diffusion::ModelCache* cache, jobs::JobContext& ctx) {
  v1::GenerateRequest request;
  RETURN_IF_ERROR(ctx.ReadConfig(&request));
  ASSIGN_OR_RETURN(diffusion::ModelChoice model, FromProto(request.generation().model(), "generation.model"));
  ASSIGN_OR_RETURN(GenerationSettings settings, ResolveSettings(request.mutable_generation(), NoSeedLeftToDraw));
  ProgressReporter<v1::GenerateResponse> progress(ctx);
  return diffusion::RenderImages(
      *cache, model, settings.request, settings.batch_size, std::ref(progress),
      [&](diffusion::RenderedImage image) -> absl::Status {
        const std::string path =
            absl::StrCat(ctx.path_prefix(), "/", Numbered(image.index), "-seed", image.seed, ".png");
        ASSIGN_OR_RETURN(experiments::Artifact artifact, StoreImage(artifacts, blobs, ctx.run_id(), path, image.png));
        v1::GenerateResponse message;
        message.set_run_id(ctx.run_id());
        ToProto(image, artifact, request.return_png(), message.mutable_image());
        ctx.Output(message);
        return absl::OkStatus();
      });
}

absl::Status RunPairs(experiments::ArtifactStore* artifacts, experiments::PairStore* pairs,
                      experiments::ArtifactBlobs* blobs, diffusion::ModelCache* cache, jobs::JobContext& ctx) {
  v1::GeneratePairsRequest request;
  RETURN_IF_ERROR(ctx.ReadConfig(&request));
  diffusion::PairPlan plan;
  ASSIGN_OR_RETURN(plan.a, FromProto(request.a().model(), "a.model"));
  ASSIGN_OR_RETURN(plan.b, FromProto(request.b().model(), "b.model"));
  ASSIGN_OR_RETURN(GenerationSettings settings, ResolveSettings(request.mutable_generation(), NoSeedLeftToDraw));
  plan.settings = settings.request;
  plan.batch_size = settings.batch_size;
  for (const v1::PairPrompt& p : request.prompts()) plan.prompts.push_back({p.prompt(), p.shot_type()});
  const std::string& label_a = request.a().label();
  const std::string& label_b = request.b().label();
  ProgressReporter<v1::GeneratePairsResponse> progress(ctx);
  int64_t count = 0;
  return diffusion::RenderPairs(*cache, plan, std::ref(progress), [&](diffusion::RenderedPair pair) -> absl::Status {
    const std::string stem = absl::StrCat(ctx.path_prefix(), "/", Numbered(count++), "-");
    ASSIGN_OR_RETURN(experiments::Artifact art_a,
                     StoreImage(artifacts, blobs, ctx.run_id(), stem + label_a + ".png", pair.a.png));
    ASSIGN_OR_RETURN(experiments::Artifact art_b,
                     StoreImage(artifacts, blobs, ctx.run_id(), stem + label_b + ".png", pair.b.png));
    experiments::ImagePair row;
    row.run_id = ctx.run_id();
    row.prompt = pair.prompt.prompt;
    row.shot_type = pair.prompt.shot_type;
    row.seed = pair.seed;
    row.label_a = label_a;
    row.label_b = label_b;
    row.artifact_a = art_a.id;
    row.artifact_b = art_b.id;
    ASSIGN_OR_RETURN(experiments::ImagePair saved, pairs->AddImagePair(row));
    v1::GeneratePairsResponse message;
    message.set_run_id(ctx.run_id());
    v1::ImagePair* out = message.mutable_pair();
    out->set_id(saved.id);
    out->set_run_id(ctx.run_id());
    out->set_prompt(saved.prompt);
    out->set_shot_type(saved.shot_type);
    out->set_seed(saved.seed);
    out->set_label_a(label_a);
    out->set_label_b(label_b);
    ToProto(pair.a, art_a, request.return_png(), out->mutable_image_a());
    ToProto(pair.b, art_b, request.return_png(), out->mutable_image_b());
    ctx.Output(message);
    return absl::OkStatus();
  });
}

}  // namespace

jobs::JobKind GenerateJobKind(experiments::ArtifactStore* artifacts, experiments::ArtifactBlobs* blobs,
                              diffusion::ModelCache* models) {
  jobs::JobKind kind;
  kind.name = kGenerateJob;
  kind.run = [artifacts, blobs, models](jobs::JobContext& ctx) { return RunGenerate(artifacts, blobs, models, ctx); };
  return kind;
}

jobs::JobKind PairsJobKind(experiments::ArtifactStore* artifacts, experiments::PairStore* pairs,
                           experiments::ArtifactBlobs* blobs, diffusion::ModelCache* models) {
  jobs::JobKind kind;
  kind.name = kPairsJob;
  kind.run = [artifacts, pairs, blobs, models](jobs::JobContext& ctx) {
    return RunPairs(artifacts, pairs, blobs, models, ctx);
  };
  return kind;
}

}  // namespace dreamshot::services

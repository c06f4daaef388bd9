#include "diffusion/pipeline/image_generation.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/scheduler_factory.h"

namespace dreamshot::diffusion {
namespace {

// Denoising steps over a whole request. The steps of one batch are known
// only once its scheduler is built (PNDM runs one more than asked), so the
// total starts as batches × requested steps and is corrected by the first
// batch.
class StepCounter {
 public:
  StepCounter(int64_t batches, int64_t steps, const ProgressFn& on_progress)
      : batches_(batches), per_batch_(steps), on_progress_(on_progress) {}

  bool Report(const std::string& stage, int64_t in_batch = 0) const {
    return !on_progress_ || on_progress_({finished_ + in_batch, batches_ * per_batch_, stage});
  }
  StepCallback ForBatch() {
    return [this](int64_t done, int64_t total) {
      per_batch_ = total;
      return Report("denoising", done);
    };
  }
  void BatchDone() { finished_ += per_batch_; }

 private:
  const int64_t batches_;
  int64_t per_batch_;
  int64_t finished_ = 0;
  const ProgressFn& on_progress_;
};

absl::Status CancelledBeforeStart() { return absl::CancelledError("generation cancelled before it started"); }

// "v1-5-pruned-emaonly.safetensors" → "v1-5-pruned-emaonly"; a folder → its name.
std::string ModelName(const std::string& path) {
  std::filesystem::path p(path);
  if (p.filename().empty()) p = p.parent_path();
  return std::filesystem::is_directory(p) ? p.filename().string() : p.stem().string();
}

int64_t BatchCount(int64_t images, int64_t batch_size) { return (images + batch_size - 1) / batch_size; }

absl::Status Render(ModelCache& cache, const ModelChoice& model, const TextToImageRequest& request,
                    int64_t batch_size, StepCounter& counter, const ImageFn& on_image) {
  if (request.initial_latents.defined()) {
    return absl::InvalidArgumentError("seeded generation takes seeds, not initial_latents");
  }
  if (request.seeds.empty()) return absl::InvalidArgumentError("no seeds: nothing to generate");
  if (batch_size < 1) return absl::InvalidArgumentError(absl::StrCat("batch_size must be ≥ 1, got ", batch_size));
  if (!counter.Report("preparing model")) return CancelledBeforeStart();
  ASSIGN_OR_RETURN(std::shared_ptr<StableDiffusionModels> models, cache.Get(model.base));
  ASSIGN_OR_RETURN(const std::string model_sha, cache.ModelSha256(model.base.path, model.base.config_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<AppliedLoras> applied,
                   AppliedLoras::Apply(*models, model.loras,
                                       [&cache](const std::string& path) { return cache.FileSha256(path); }));
  GenerationRecord record;
  record.prompt = request.prompt;
  record.negative_prompt = request.negative_prompt;
  record.steps = request.steps;
  ASSIGN_OR_RETURN(record.scheduler, SchedulerShortName(request.scheduler, *models->scheduler_config));
  record.guidance_scale = request.guidance_scale;
  record.clip_skip = request.clip_skip;
  record.width = request.width;
  record.height = request.height;
  record.model_name = ModelName(model.base.path);
  record.model_sha256 = model_sha;
  record.loras = applied->records();

  const int64_t n = static_cast<int64_t>(request.seeds.size());
  for (int64_t start = 0; start < n; start += batch_size) {
    TextToImageRequest part = request;
    part.seeds.assign(request.seeds.begin() + start, request.seeds.begin() + std::min(n, start + batch_size));
    ASSIGN_OR_RETURN(TextToImageResult result, GenerateImages(*models, part, counter.ForBatch()));
    counter.BatchDone();
    for (size_t k = 0; k < part.seeds.size(); ++k) {
      RenderedImage image;
      image.index = start + static_cast<int64_t>(k);
      image.seed = part.seeds[k];
      image.record = record;
      image.record.seed = image.seed;
      ASSIGN_OR_RETURN(image.png, EncodeGeneratedPng(result.images[static_cast<int64_t>(k)], image.record));
      RETURN_IF_ERROR(on_image(std::move(image)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t PlannedSteps(int64_t images, int64_t batch_size, int64_t steps) {
  return BatchCount(images, std::max<int64_t>(1, batch_size)) * steps;
}

absl::Status RenderImages(ModelCache& cache, const ModelChoice& model, const TextToImageRequest& request,
                          int64_t batch_size, const ProgressFn& on_progress, const ImageFn& on_image) {
  RETURN_IF_ERROR(ValidateTextToImageRequest(request));
  StepCounter counter(BatchCount(static_cast<int64_t>(request.seeds.size()), std::max<int64_t>(1, batch_size)),
                      request.steps, on_progress);
  return Render(cache, model, request, batch_size, counter, on_image);
}

absl::Status RenderPairs(ModelCache& cache, const PairPlan& plan, const ProgressFn& on_progress,
                         const std::function<absl::Status(RenderedPair)>& on_pair) {
  RETURN_IF_ERROR(ValidateTextToImageRequest(plan.settings));
  if (plan.prompts.empty()) return absl::InvalidArgumentError("no prompts: nothing to generate");
  const int64_t batches_per_side =
      BatchCount(static_cast<int64_t>(plan.settings.seeds.size()), std::max<int64_t>(1, plan.batch_size));
  StepCounter counter(2 * batches_per_side * static_cast<int64_t>(plan.prompts.size()), plan.settings.steps,
                      on_progress);
  for (const PromptEntry& entry : plan.prompts) {
    TextToImageRequest request = plan.settings;
    request.prompt = entry.prompt;
    std::vector<RenderedPair> pairs(request.seeds.size());
    RETURN_IF_ERROR(Render(cache, plan.a, request, plan.batch_size, counter, [&](RenderedImage image) {
      pairs[image.index].a = std::move(image);
      return absl::OkStatus();
    }));
    RETURN_IF_ERROR(Render(cache, plan.b, request, plan.batch_size, counter, [&](RenderedImage image) {
      pairs[image.index].b = std::move(image);
      return absl::OkStatus();
    }));
    for (size_t k = 0; k < pairs.size(); ++k) {
      pairs[k].prompt = entry;
      pairs[k].seed = request.seeds[k];
      RETURN_IF_ERROR(on_pair(std::move(pairs[k])));
    }
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::diffusion

#include "services/generator_convert.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/device.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/model_checks.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "services/experiment_convert.h"

namespace dreamshot::services {
namespace {

absl::Status InRange(const char* field, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be in [", low, ", ", high, "], got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<diffusion::ModelChoice> FromProto(const v1::ModelSpec& spec, const std::string& field) {
  diffusion::ModelChoice choice;
  if (spec.base().empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".base: no base model given"));
  {
    absl::Status files = diffusion::CheckModelFiles(spec.base(), spec.config_dir());
    if (!files.ok()) return absl::Status(files.code(), absl::StrCat(field, ": ", files.message()));
  }
  choice.base.path = spec.base();
  choice.base.config_dir = spec.config_dir();
  {
    absl::StatusOr<core::DeviceSpec> device =
        core::ParseDeviceSpec(spec.device().empty() ? "cpu" : spec.device(), spec.dtype().empty() ? "float32" : spec.dtype());
    if (!device.ok()) return absl::Status(device.status().code(), absl::StrCat(field, ": ", device.status().message()));
    choice.base.spec = *device;
  }
  for (int i = 0; i < spec.loras_size(); ++i) {
    const v1::LoraRef& lora = spec.loras(i);
    const std::string name = absl::StrCat(field, ".loras[", i, "]");
    std::error_code ec;
    if (lora.path().empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": no path given"));
    if (!std::filesystem::is_regular_file(lora.path(), ec)) {
      return absl::NotFoundError(absl::StrCat(name, ": no LoRA file at ", lora.path()));
    }
    const double scale = lora.has_scale() ? lora.scale() : 1.0;
    if (!std::isfinite(scale)) return absl::InvalidArgumentError(absl::StrCat(name, ".scale must be finite"));
    choice.loras.push_back({lora.path(), scale});
  }
  return choice;
}

absl::StatusOr<GenerationSettings> ResolveSettings(v1::GenerationRequest* r,
                                                   const std::function<uint64_t()>& draw_seed) {
  if (!r->has_width()) r->set_width(512);
  if (!r->has_height()) r->set_height(512);
  if (!r->has_steps()) r->set_steps(25);
  if (!r->has_guidance_scale()) r->set_guidance_scale(7.5);
  if (!r->has_batch_size()) r->set_batch_size(1);
  if (r->width() % 8 != 0 || r->height() % 8 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("width and height must be positive multiples of 8, got ", r->width(), "×", r->height()));
  }
  RETURN_IF_ERROR(InRange("width", r->width(), 8, kMaxSide));
  RETURN_IF_ERROR(InRange("height", r->height(), 8, kMaxSide));
  RETURN_IF_ERROR(InRange("steps", r->steps(), 1, kMaxSteps));
  RETURN_IF_ERROR(InRange("batch_size", r->batch_size(), 1, kMaxBatchSize));
  RETURN_IF_ERROR(InRange("clip_skip", r->clip_skip(), 0, 64));
  if (r->ddim_eta() < 0 || r->ddim_eta() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("ddim_eta must be in [0, 1], got ", r->ddim_eta()));
  }
  if (!r->scheduler().empty()) {
    ASSIGN_OR_RETURN(std::string name, diffusion::SchedulerShortName(r->scheduler()));
    r->set_scheduler(name);
  }
  if (r->seeds_size() > 0 && r->has_num_images() && r->num_images() != r->seeds_size()) {
    return absl::InvalidArgumentError(absl::StrCat("num_images (", r->num_images(), ") and the ", r->seeds_size(),
                                                   " seeds disagree: give one or the other"));
  }
  if (r->seeds_size() == 0) {
    if (!r->has_num_images()) r->set_num_images(1);
    RETURN_IF_ERROR(InRange("num_images", r->num_images(), 1, kMaxImagesPerRequest));
    for (int k = 0; k < r->num_images(); ++k) r->add_seeds(draw_seed());
  }
  RETURN_IF_ERROR(InRange("number of seeds", r->seeds_size(), 1, kMaxImagesPerRequest));
  r->set_num_images(r->seeds_size());

  GenerationSettings out;
  diffusion::TextToImageRequest& t = out.request;
  t.prompt = r->prompt();
  t.negative_prompt = r->negative_prompt();
  t.width = r->width();
  t.height = r->height();
  t.steps = r->steps();
  t.guidance_scale = r->guidance_scale();
  t.clip_skip = r->clip_skip();
  t.scheduler.name = r->scheduler();
  t.scheduler.ddim_eta = r->ddim_eta();
  t.seeds.assign(r->seeds().begin(), r->seeds().end());
  out.batch_size = r->batch_size();
  RETURN_IF_ERROR(diffusion::ValidateTextToImageRequest(t));
  return out;
}

absl::Status CheckAgainstModel(const diffusion::ModelChoice& model, const GenerationSettings& settings,
                               const std::string& field) {
  const diffusion::TextToImageRequest& r = settings.request;
  absl::Status status = diffusion::CheckModelForRequest(
      model.base.path, model.base.config_dir, diffusion::ModelRequest{r.scheduler, r.steps, r.clip_skip, r.width, r.height});
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(field, ": ", status.message()));
}

void ToProto(const diffusion::RenderedImage& image, const experiments::Artifact& artifact, bool with_png,
             v1::GeneratedImage* out) {
  ToProto(artifact, out->mutable_artifact());
  out->set_seed(image.seed);
  out->set_index(static_cast<int32_t>(image.index));
  out->set_parameters(diffusion::GenerationParametersText(image.record));
  if (with_png) out->set_png(image.png);
}

void ToProto(const diffusion::GenerationProgress& progress, v1::Progress* out) {
  out->set_step(progress.done);
  out->set_total(progress.total);
  out->set_message(progress.stage);
}

}  // namespace dreamshot::services

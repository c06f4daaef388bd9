#include "services/train_validation.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/image_generation.h"
#include "experiments/artifact_writes.h"
#include "models/lora/lora_file.h"

namespace dreamshot::services {

absl::StatusOr<int64_t> TrainValidation::Render(int64_t step, const models::lora::LoraWeights& adapter,
                                                const core::CancelFlag* cancel) {
  const std::string file = (std::filesystem::path(settings_.scratch_dir) / "validation_adapter.safetensors").string();
  RETURN_IF_ERROR(models::lora::WriteLoraFile(file, adapter, models::lora::LoraFileFormat::kPeft));
  diffusion::ModelChoice model;
  model.base = settings_.base;
  model.loras = {{file, 1.0}};
  int64_t stored = 0;
  for (size_t p = 0; p < settings_.prompts.size(); ++p) {
    diffusion::TextToImageRequest request;
    request.prompt = settings_.prompts[p];
    request.width = request.height = settings_.resolution;
    request.steps = settings_.steps;
    request.seeds = settings_.seeds;
    auto on_progress = [cancel](const diffusion::GenerationProgress&) { return !(cancel && cancel->cancelled()); };
    RETURN_IF_ERROR(diffusion::RenderImages(
        *models_, model, request, /*batch_size=*/1, on_progress, [&](diffusion::RenderedImage image) -> absl::Status {
          experiments::Artifact artifact;
          artifact.run_id = settings_.run_id;
          artifact.kind = "validation_image";
          artifact.path = absl::StrFormat("%s/validation/step-%06d/p%d-seed%d.png", settings_.path_prefix, step, p,
                                          image.seed);
          absl::StatusOr<experiments::Artifact> added =
              experiments::AddArtifactBytes(*artifacts_, *blobs_, std::move(artifact), image.png);
          if (added.ok()) {
            ++stored;
          } else if (added.status().code() != absl::StatusCode::kAlreadyExists) {
            return added.status();
          }
          return absl::OkStatus();
        }));
  }
  return stored;
}

}  // namespace dreamshot::services

// pipeline_<sampler>: the whole text-to-image pipeline on the tiny model —
// prompt and negative prompt embeddings, the latents after every scheduler
// step, and the decoded image — from the reference's starting noise.
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/model_source.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/text_to_image.h"
#include "parity/case_kinds.h"
#include "parity/case_io.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunPipelineCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  if (!absl::StartsWith(c.name, "pipeline_")) {
    return absl::InvalidArgumentError(absl::StrCat(c.name, ": not a pipeline_<sampler> case"));
  }
  ASSIGN_OR_RETURN(core::ModelSource source, core::ModelSource::Open(m.model_folder));
  ASSIGN_OR_RETURN(diffusion::StableDiffusionModels models,
                   diffusion::StableDiffusionModels::Load(source, options.device));
  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));

  diffusion::TextToImageRequest request;
  request.scheduler.name = c.name.substr(std::string("pipeline_").size());
  ASSIGN_OR_RETURN(request.prompt, c.spec.String("prompt"));
  ASSIGN_OR_RETURN(request.negative_prompt, c.spec.String("negative_prompt"));
  ASSIGN_OR_RETURN(request.guidance_scale, c.spec.Double("guidance_scale"));
  ASSIGN_OR_RETURN(request.steps, c.spec.Int("num_inference_steps"));
  ASSIGN_OR_RETURN(request.height, c.spec.Int("height"));
  ASSIGN_OR_RETURN(request.width, c.spec.Int("width"));
  ASSIGN_OR_RETURN(request.initial_latents, io.Load("latents_init", torch::kFloat));
  request.keep_step_latents = true;
  ASSIGN_OR_RETURN(diffusion::TextToImageResult result, diffusion::GenerateImages(models, request));

  OutputChecker checker(io, m.atol, m.rtol);
  RETURN_IF_ERROR(checker.CheckIfPresent("prompt_embeds", result.prompt_embeds));
  RETURN_IF_ERROR(checker.CheckIfPresent("negative_prompt_embeds", result.negative_prompt_embeds));
  RETURN_IF_ERROR(checker.CheckIfPresent("latents_after_step", torch::stack(result.step_latents)));
  RETURN_IF_ERROR(checker.CheckIfPresent("image_pt", result.images));
  RETURN_IF_ERROR(checker.CheckIfPresent("image_np", result.images.permute({0, 2, 3, 1})));
  return checker.result();
}

}  // namespace dreamshot::parity

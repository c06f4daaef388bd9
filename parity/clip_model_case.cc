// clip_model_and_image_processor: transformers' CLIPImageProcessor on the
// case's PNGs (pixel_values: our Pillow-exact resize and crop) and
// CLIPModel on the case's model folder: get_image_features /
// get_text_features, the normalised embeddings, their cosines and
// logits_per_image. Tolerances per output from cases.json (atol.pixel_values,
// atol.embeds); logits are 100 × cosine, so they get 100 × atol.embeds.
#include <torch/torch.h>

#include <utility>

#include "core/safetensors.h"
#include "core/status_macros.h"
#include "evaluator/image_preprocess.h"
#include "models/clip/clip_model.h"
#include "models/load_model.h"
#include "parity/case_images.h"
#include "parity/case_io.h"
#include "parity/case_kinds.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunClipModelCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  ASSIGN_OR_RETURN(const double pixel_atol, OutputTolerance(c, "pixel_values"));
  ASSIGN_OR_RETURN(const double embeds_atol, OutputTolerance(c, "embeds"));
  ASSIGN_OR_RETURN(auto model, models::LoadModelFromFolder<models::clip::ClipModel>(m.model_folder, options.device));

  ASSIGN_OR_RETURN(std::vector<evaluator::Image8> images, ReadCaseImages(c));
  ASSIGN_OR_RETURN(at::Tensor pixel_values, evaluator::PreprocessBatch(images, evaluator::ClipPreprocessing()));
  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));
  ASSIGN_OR_RETURN(at::Tensor input_ids, io.Load("input_ids"));

  ASSIGN_OR_RETURN(at::Tensor image_features, model->GetImageFeatures(pixel_values));
  ASSIGN_OR_RETURN(at::Tensor text_features, model->GetTextFeatures(input_ids));
  ASSIGN_OR_RETURN(models::clip::ClipModelOutput out, model->Forward(input_ids, pixel_values));
  const at::Tensor cosine = torch::matmul(out.image_embeds, out.text_embeds.t());  // [n_img, n_txt]

  // The preprocessing is checked with rtol 0: it is exact up to float32 rounding.
  OutputChecker checker(io, embeds_atol, /*rtol=*/0);
  checker.set_print_each(true);
  RETURN_IF_ERROR(checker.CheckIfPresent("pixel_values", pixel_values, pixel_atol));
  const std::pair<const char*, at::Tensor> embeds[] = {
      {"image_features", image_features}, {"text_features", text_features}, {"image_embeds", out.image_embeds},
      {"text_embeds", out.text_embeds},   {"cosine_image_text", cosine},
  };
  for (const auto& [name, actual] : embeds) RETURN_IF_ERROR(checker.CheckIfPresent(name, actual));
  RETURN_IF_ERROR(
      checker.CheckIfPresent("logits_per_image", out.logits_per_image, embeds_atol * model->LogitScaleExp()));
  return checker.result();
}

}  // namespace dreamshot::parity

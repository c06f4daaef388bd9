// dino_vit: torchvision's Resize(256, BICUBIC) → CenterCrop(224) →
// ToTensor → Normalize(ImageNet) on the case's PNGs (our Pillow-exact
// resize, half-to-even crop offsets) and transformers' ViTModel without
// pooler on the case's model folder: last_hidden_state, its class token
// and their pairwise cosines. Tolerances per output from cases.json
// (atol.pixel_values, atol.cls).
#include <torch/torch.h>

#include <utility>

#include "core/safetensors.h"
#include "core/status_macros.h"
#include "evaluator/image_preprocess.h"
#include "models/vit/vit_loading.h"
#include "parity/case_images.h"
#include "parity/case_io.h"
#include "parity/case_kinds.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunDinoVitCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  ASSIGN_OR_RETURN(const double pixel_atol, OutputTolerance(c, "pixel_values"));
  ASSIGN_OR_RETURN(const double cls_atol, OutputTolerance(c, "cls"));
  ASSIGN_OR_RETURN(auto model, models::vit::LoadViT(m.model_folder, options.device));

  ASSIGN_OR_RETURN(std::vector<evaluator::Image8> images, ReadCaseImages(c));
  ASSIGN_OR_RETURN(at::Tensor pixel_values, evaluator::PreprocessBatch(images, evaluator::DinoPreprocessing()));
  ASSIGN_OR_RETURN(models::vit::ViTOutput out, model->Forward(pixel_values));
  const at::Tensor unit = out.cls / out.cls.norm(2, {-1}, /*keepdim=*/true);
  const at::Tensor cosine = torch::matmul(unit, unit.t());

  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));
  // The preprocessing is checked with rtol 0: it is exact up to float32 rounding.
  OutputChecker checker(io, cls_atol, /*rtol=*/0);
  checker.set_print_each(true);
  RETURN_IF_ERROR(checker.CheckIfPresent("pixel_values", pixel_values, pixel_atol));
  const std::pair<const char*, at::Tensor> outputs[] = {
      {"cls", out.cls}, {"last_hidden_state", out.last_hidden_state}, {"cosine_cls", cosine}};
  for (const auto& [name, actual] : outputs) RETURN_IF_ERROR(checker.CheckIfPresent(name, actual));
  return checker.result();
}

}  // namespace dreamshot::parity

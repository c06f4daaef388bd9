#include "evaluator/clip_zero_shot.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::evaluator {
namespace {

constexpr dataset::ShotScale kScales[3] = {dataset::ShotScale::kClose, dataset::ShotScale::kMedium,
                                           dataset::ShotScale::kLong};

// Rows scaled to unit length, in float64; INVALID_ARGUMENT for a zero or
// non-finite row.
absl::StatusOr<at::Tensor> UnitRows(const at::Tensor& t, const std::string& what) {
  const at::Tensor x = t.detach().to(torch::kCPU, torch::kDouble);
  if (!torch::isfinite(x).all().item<bool>()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " holds a NaN or infinite value"));
  }
  const at::Tensor norms = x.norm(2, 1, /*keepdim=*/true);
  const at::Tensor zero = (norms == 0).nonzero();
  if (zero.size(0) > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": row ", zero[0][0].item<int64_t>(), " is all zeros: no direction to compare"));
  }
  return x / norms;
}

}  // namespace

std::vector<std::string> DefaultScalePrompts(dataset::ShotScale scale) {
  switch (scale) {
    case dataset::ShotScale::kClose:
      return {"a close-up shot from a film", "a close shot of a face in a movie"};
    case dataset::ShotScale::kMedium:
      return {"a medium shot from a film", "a waist-up shot of a person in a movie"};
    case dataset::ShotScale::kLong:
      return {"a long shot from a film", "a wide shot of a scene in a movie"};
    case dataset::ShotScale::kUnknown:
      break;
  }
  return {};
}

absl::StatusOr<std::vector<ZeroShotScale>> ClassifyShotScales(const at::Tensor& image_embeds,
                                                              const std::array<at::Tensor, 3>& prompt_embeds,
                                                              double logit_scale) {
  if (!(logit_scale > 0) || !std::isfinite(logit_scale)) {
    return absl::InvalidArgumentError(absl::StrCat("logit_scale must be a finite number above 0, got ", logit_scale));
  }
  if (!image_embeds.defined() || image_embeds.dim() != 2) {
    return absl::InvalidArgumentError("image embeddings must be [N, D]");
  }
  const int64_t d = image_embeds.size(1);
  auto images = UnitRows(image_embeds, "image embeddings");
  if (!images.ok()) return images.status();
  std::vector<at::Tensor> classes;
  for (int s = 0; s < 3; ++s) {
    const at::Tensor& p = prompt_embeds[s];
    const std::string what = absl::StrCat("the ", dataset::ShotScaleName(kScales[s]), " prompts' embeddings");
    if (!p.defined() || p.dim() != 2 || p.size(0) < 1 || p.size(1) != d) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must be [P ≥ 1, ", d, "], got ",
                       p.defined() ? absl::StrCat("[", absl::StrJoin(p.sizes(), ", "), "]") : std::string("nothing")));
    }
    auto unit = UnitRows(p, what);
    if (!unit.ok()) return unit.status();
    const at::Tensor mean = unit->mean(0);
    const double norm = mean.norm().item<double>();
    if (norm == 0) return absl::InvalidArgumentError(absl::StrCat(what, " cancel out: their mean is zero"));
    classes.push_back(mean / norm);
  }
  const at::Tensor logits = logit_scale * images->matmul(torch::stack(classes).t());  // [N, 3]
  const at::Tensor probabilities = torch::softmax(logits, 1);
  std::vector<ZeroShotScale> out(static_cast<size_t>(image_embeds.size(0)));
  for (int64_t i = 0; i < image_embeds.size(0); ++i) {
    ZeroShotScale& z = out[i];
    int best = 0;
    for (int s = 0; s < 3; ++s) {
      z.probabilities[s] = probabilities[i][s].item<double>();
      if (z.probabilities[s] > z.probabilities[best]) best = s;
    }
    z.scale = kScales[best];
    z.confidence = z.probabilities[best];
  }
  return out;
}

}  // namespace dreamshot::evaluator

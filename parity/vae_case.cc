// vae: diffusers AutoencoderKL on the case's model folder; checks
// encode(image).latent_dist.{mean, std, logvar}, decode(z) and
// decode(z / scaling_factor).
#include <torch/torch.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/vae/autoencoder_kl.h"
#include "models/load_model.h"
#include "parity/case_kinds.h"
#include "parity/case_io.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunVaeCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  ASSIGN_OR_RETURN(auto vae, models::LoadModelFromFolder<models::vae::AutoencoderKL>(m.model_folder, options.device));

  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));
  ASSIGN_OR_RETURN(at::Tensor image, io.Load("image", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor z, io.Load("z", torch::kFloat));
  ASSIGN_OR_RETURN(models::vae::LatentDistribution dist, vae->Encode(image));
  ASSIGN_OR_RETURN(at::Tensor decoded, vae->Decode(z));
  ASSIGN_OR_RETURN(at::Tensor decoded_scaled, vae->Decode(z / vae->scaling_factor()));

  const std::pair<const char*, at::Tensor> outputs[] = {
      {"latent_mean", dist.mean},
      {"latent_std", dist.std},
      {"latent_logvar", dist.logvar},
      {"decoded", decoded},
      {"decoded_from_z_over_scaling_factor", decoded_scaled},
  };
  OutputChecker checker(io, m.atol, m.rtol);
  for (const auto& [name, actual] : outputs) RETURN_IF_ERROR(checker.CheckIfPresent(name, actual));
  return checker.result();
}

}  // namespace dreamshot::parity

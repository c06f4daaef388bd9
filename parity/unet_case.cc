// unet_sd15 / unet_sd2: diffusers.UNet2DConditionModel(sample, timestep,
// encoder_hidden_states).sample on the case's model folder (`model`), for
// every out_<call> with its timestep_<call>, plus the debug time embedding
// time_embedding(time_proj([999, 37, 10, 500])) when the file has it.
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/unet/unet_2d_condition.h"
#include "models/load_model.h"
#include "parity/case_kinds.h"
#include "parity/case_io.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunUNetCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  using models::unet::UNet2DConditionModel;
  ASSIGN_OR_RETURN(auto model, models::LoadModelFromFolder<UNet2DConditionModel>(m.model_folder, options.device));
  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));
  ASSIGN_OR_RETURN(at::Tensor sample, io.Load("sample", options.device.dtype));
  ASSIGN_OR_RETURN(at::Tensor encoder_hidden_states, io.Load("encoder_hidden_states", options.device.dtype));

  OutputChecker checker(io, m.atol, m.rtol);

  torch::NoGradGuard no_grad;
  for (const char* call : {"t999", "t37", "t_batch", "tfloat"}) {
    const std::string out_name = absl::StrCat("out_", call);
    if (!io.Contains(out_name)) continue;
    ASSIGN_OR_RETURN(at::Tensor timestep, io.Load(absl::StrCat("timestep_", call)));
    ASSIGN_OR_RETURN(at::Tensor out, model->Forward(sample, timestep, encoder_hidden_states));
    RETURN_IF_ERROR(checker.CheckIfPresent(out_name, out));
  }
  const std::string debug = "debug_time_embedding_t_999_37_10_500";
  if (io.Contains(debug)) {
    ASSIGN_OR_RETURN(at::Tensor emb, model->TimeEmbedding(torch::tensor({999, 37, 10, 500}, torch::kLong)));
    RETURN_IF_ERROR(checker.CheckIfPresent(debug, emb));
  }
  if (checker.checked() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(c.name, ": ", m.files[0], " has no out_* tensors"));
  }
  return checker.result();
}

}  // namespace dreamshot::parity

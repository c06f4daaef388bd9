// clip_text_model: transformers.CLIPTextModel(input_ids) on the case's model
// folder; checks last_hidden_state, pooler_output, the penultimate hidden
// state (clip skip) and the embeddings output.
#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/clip/text_model.h"
#include "models/load_model.h"
#include "parity/case_kinds.h"
#include "parity/case_io.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunClipTextModelCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  ASSIGN_OR_RETURN(auto model,
                   models::LoadModelFromFolder<models::clip::ClipTextModel>(m.model_folder, options.device));

  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));
  ASSIGN_OR_RETURN(at::Tensor input_ids, io.Load("input_ids"));
  torch::NoGradGuard no_grad;  // inference: Forward follows the caller's grad mode
  ASSIGN_OR_RETURN(models::clip::ClipTextOutput out, model->Forward(input_ids, /*output_hidden_states=*/true));

  const std::pair<const char*, at::Tensor> outputs[] = {
      {"last_hidden_state", out.last_hidden_state},
      {"pooler_output", out.pooler_output},
      {"hidden_state_penultimate", out.hidden_states[out.hidden_states.size() - 2]},
      {"embeddings_output", out.hidden_states.front()},
  };
  OutputChecker checker(io, m.atol, m.rtol);
  for (const auto& [name, actual] : outputs) RETURN_IF_ERROR(checker.CheckIfPresent(name, actual));
  return checker.result();
}

}  // namespace dreamshot::parity

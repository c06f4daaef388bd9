// clip_text_model: transformers.CLIPTextModel(input_ids) on the case's model
// folder; checks last_hidden_state, pooler_output, the penultimate hidden
// state (clip skip) and the embeddings output.
#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/component_weights.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/clip/text_model.h"
#include "parity/case_kinds.h"
#include "parity/tensor_diff.h"

namespace dreamshot::parity {

absl::StatusOr<CaseResult> RunClipTextModelCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(std::string model_dir, c.spec.String("model"));
  ASSIGN_OR_RETURN(std::vector<std::string> files, c.spec.StringList("files"));
  if (files.empty()) return absl::InvalidArgumentError(absl::StrCat(c.name, ": no files listed"));
  ASSIGN_OR_RETURN(double atol, c.spec.Double("atol", 1e-4));
  ASSIGN_OR_RETURN(double rtol, c.spec.Double("rtol", 1e-4));

  const std::string folder = c.Path(model_dir);
  ASSIGN_OR_RETURN(auto json, core::JsonConfig::FromFile(folder + "/config.json"));
  ASSIGN_OR_RETURN(auto config, models::clip::ClipTextConfig::FromJson(json));
  ASSIGN_OR_RETURN(auto model, models::clip::ClipTextModel::Create(config, options.device));
  ASSIGN_OR_RETURN(auto weights, core::LoadComponentWeights(folder, options.device));
  RETURN_IF_ERROR(model->LoadWeights(weights, folder));

  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(files[0])));
  ASSIGN_OR_RETURN(at::Tensor input_ids, io.Load("input_ids"));
  ASSIGN_OR_RETURN(models::clip::ClipTextOutput out, model->Forward(input_ids, /*output_hidden_states=*/true));

  const std::pair<const char*, at::Tensor> outputs[] = {
      {"last_hidden_state", out.last_hidden_state},
      {"pooler_output", out.pooler_output},
      {"hidden_state_penultimate", out.hidden_states[out.hidden_states.size() - 2]},
      {"embeddings_output", out.hidden_states.front()},
  };
  CaseResult result;
  result.tolerance = atol;
  for (const auto& [name, actual] : outputs) {
    if (!io.Contains(name)) continue;  // a reference set may omit debug outputs
    ASSIGN_OR_RETURN(at::Tensor expected, io.Load(name, torch::kFloat));
    TensorDiff diff = CompareTensors(actual, expected, atol, rtol);
    if (diff.max_abs_err >= result.max_abs_err) result.max_abs_err = diff.max_abs_err;
    if (!diff.within_tolerance && result.passed) {
      result.passed = false;
      result.detail = absl::StrCat(name, " ", diff.where);
    }
  }
  return result;
}

}  // namespace dreamshot::parity

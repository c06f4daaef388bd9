// lora_unet: diffusers' load_lora_into_unet + UNet2DConditionModel(...,
// cross_attention_kwargs={"scale": s}) on the case's model (`model`), for
// each LoRA file of the case (peft, diffusers legacy, kohya) at scales 1.0
// and 0.5, applied both merged into the weights and at runtime; every
// output is checked against out_lora_scale_<s> of the case's first file.
#include <torch/torch.h>

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_file.h"
#include "models/lora/lora_merge.h"
#include "models/lora/lora_runtime.h"
#include "models/unet/unet_2d_condition.h"
#include "parity/case_io.h"
#include "models/load_model.h"
#include "parity/case_kinds.h"
#include "parity/tensor_diff.h"

namespace dreamshot::parity {
namespace {

namespace lora = models::lora;

// Runs the UNet on the case's inputs and folds the comparison with
// `expected_name` into `checker`, printing the max abs error as `label`.
absl::Status CheckOutput(models::unet::UNet2DConditionModel& model, const core::SafetensorsFile& io,
                         const RunOptions& options, const std::string& expected_name, const std::string& label,
                         double atol, double rtol, OutputChecker& checker) {
  ASSIGN_OR_RETURN(at::Tensor sample, io.Load("sample", options.device.dtype));
  ASSIGN_OR_RETURN(at::Tensor timestep, io.Load("timestep"));
  ASSIGN_OR_RETURN(at::Tensor encoder_hidden_states, io.Load("encoder_hidden_states", options.device.dtype));
  ASSIGN_OR_RETURN(at::Tensor out, model.Forward(sample, timestep, encoder_hidden_states));
  ASSIGN_OR_RETURN(at::Tensor expected, io.Load(expected_name));
  const TensorDiff diff = CompareTensors(out, expected, atol, rtol);
  std::cout << "  " << label << ": max abs error " << diff.max_abs_err << (diff.within_tolerance ? "" : "  FAIL")
            << "\n";
  return checker.CheckIfPresent(expected_name, out);
}

}  // namespace

absl::StatusOr<CaseResult> RunLoraUNetCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(ModelCase m, ReadModelCase(c));
  using models::unet::UNet2DConditionModel;
  ASSIGN_OR_RETURN(auto model, models::LoadModelFromFolder<UNet2DConditionModel>(m.model_folder, options.device));
  ASSIGN_OR_RETURN(lora::AdaptableModules modules,
                   lora::AdaptableModules::Index(model->module(), lora::LoraComponent::kUNet));

  // files[0] holds the inputs and outputs, the rest are the LoRA files.
  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(m.files[0])));
  OutputChecker checker(io, m.atol, m.rtol);
  torch::NoGradGuard no_grad;
  RETURN_IF_ERROR(CheckOutput(*model, io, options, "out_base", "base", m.atol, m.rtol, checker));
  int lora_files = 0;
  for (size_t i = 1; i < m.files.size(); ++i) {
    if (!absl::StartsWith(m.files[i], "lora/")) continue;
    ++lora_files;
    ASSIGN_OR_RETURN(lora::LoraFile file, lora::ReadLoraFile(c.Path(m.files[i]), {&modules, nullptr}));
    const lora::LoraModuleMap& adapter = file.weights.unet;
    for (const char* scale_text : {"1.0", "0.5"}) {
      const double scale = scale_text[0] == '1' ? 1.0 : 0.5;
      const std::string expected = absl::StrCat("out_lora_scale_", scale_text);
      const std::string label = absl::StrCat(m.files[i], " (", lora::FormatName(file.format), ") scale ", scale_text);

      RETURN_IF_ERROR(lora::MergeLora(modules, adapter, scale));
      RETURN_IF_ERROR(CheckOutput(*model, io, options, expected, label + " merged", m.atol, m.rtol, checker));
      RETURN_IF_ERROR(lora::UnmergeLora(modules, adapter, scale));

      lora::RuntimeLoras runtime(modules);
      RETURN_IF_ERROR(runtime.Attach("case", adapter, scale));
      RETURN_IF_ERROR(CheckOutput(*model, io, options, expected, label + " runtime", m.atol, m.rtol, checker));
    }
  }
  if (lora_files == 0) return absl::InvalidArgumentError(absl::StrCat(c.name, ": no lora/ files listed"));
  return checker.result();
}

}  // namespace dreamshot::parity

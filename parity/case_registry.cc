#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "parity/case_kinds.h"
#include "parity/case_runner.h"

namespace dreamshot::parity {
namespace {

struct KindEntry {
  const char* name;  // the case name in cases.json, which is its kind
  CaseRunnerFn run;
};

// Later issues add their kinds here (schedulers, UNet, VAE, pipelines, ...).
constexpr KindEntry kKinds[] = {
    {"clip_tokenizer", &RunClipTokenizerCase},
    {"clip_text_model", &RunClipTextModelCase},
    {"unet_sd15", &RunUNetCase},
    {"unet_sd2", &RunUNetCase},
    {"vae", &RunVaeCase},
    {"scheduler_ddpm_add_noise_velocity", &RunSchedulerForwardProcessCase},
    {"scheduler_ddim_10steps", &RunSchedulerTrajectoryCase},
    {"scheduler_ddim_25steps", &RunSchedulerTrajectoryCase},
    {"scheduler_pndm_10steps", &RunSchedulerTrajectoryCase},
    {"scheduler_pndm_25steps", &RunSchedulerTrajectoryCase},
    {"scheduler_euler_10steps", &RunSchedulerTrajectoryCase},
    {"scheduler_euler_25steps", &RunSchedulerTrajectoryCase},
    {"scheduler_euler_ancestral_10steps", &RunSchedulerTrajectoryCase},
    {"scheduler_euler_ancestral_25steps", &RunSchedulerTrajectoryCase},
    {"scheduler_dpmpp_2m_10steps", &RunSchedulerTrajectoryCase},
    {"scheduler_dpmpp_2m_25steps", &RunSchedulerTrajectoryCase},
    {"pipeline_ddim", &RunPipelineCase},
    {"pipeline_pndm", &RunPipelineCase},
    {"pipeline_euler", &RunPipelineCase},
    {"pipeline_dpmpp_2m", &RunPipelineCase},
    {"lora_unet", &RunLoraUNetCase},
    {"dreambooth_lora_train_steps", &RunDreamBoothLoraTrainCase},
    {"dreambooth_lora_train_steps_clip_active", &RunDreamBoothLoraTrainCase},
    {"clip_model_and_image_processor", &RunClipModelCase},
    {"dino_vit", &RunDinoVitCase},
};

}  // namespace

CaseRunnerFn FindRunner(const std::string& case_name) {
  for (const KindEntry& k : kKinds) {
    if (case_name == k.name) return k.run;
  }
  return nullptr;
}

absl::StatusOr<std::vector<ParityCase>> ReadCases(const std::string& reference_dir) {
  ASSIGN_OR_RETURN(core::JsonConfig index, core::JsonConfig::FromFile(reference_dir + "/cases.json"));
  ASSIGN_OR_RETURN(std::vector<core::JsonConfig> specs, index.ObjectList("cases"));
  std::vector<ParityCase> cases;
  for (core::JsonConfig& spec : specs) {
    ASSIGN_OR_RETURN(std::string name, spec.String("name"));
    cases.push_back({name, reference_dir, std::move(spec)});
  }
  return cases;
}

}  // namespace dreamshot::parity

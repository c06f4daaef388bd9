// dreambooth_lora_train_steps(_clip_active): three steps of diffusers'
// train_dreambooth_lora.py (v0.25.1) with prior preservation on the tiny
// model, through the trainer's own code (trainer/trainable_lora.h,
// trainer/dreambooth_step.h): the adapters start from the reference's
// initial weights; each step's losses and gradient norm, the first step's
// text embeddings, noisy input, prediction and clipped gradients, and the
// adapter weights after steps 1 and 3 are compared.
#include <torch/torch.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/clip/text_model.h"
#include "models/load_model.h"
#include "models/lora/adaptable_modules.h"
#include "models/unet/unet_2d_condition.h"
#include "parity/case_kinds.h"
#include "parity/tensor_diff.h"
#include "trainer/dreambooth_step.h"
#include "trainer/trainable_lora.h"

namespace dreamshot::parity {
namespace {

// Folds a comparison into `result` and prints it.
void Check(const std::string& what, const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol,
           CaseResult& result) {
  const TensorDiff diff = CompareTensors(actual.detach().to(torch::kFloat).cpu(), expected, atol, rtol);
  std::cout << "  " << what << ": max abs error " << diff.max_abs_err << " (atol " << atol << ")"
            << (diff.within_tolerance ? "" : "  FAIL") << "\n";
  if (diff.max_abs_err > result.max_abs_err) {
    result.max_abs_err = diff.max_abs_err;
    result.tolerance = atol;
  }
  if (!diff.within_tolerance && result.passed) {
    result.passed = false;
    result.detail = absl::StrCat(what, ": ", diff.where);
  }
}

// The tensors of `io` named `<prefix><peft key>`, by peft key.
absl::StatusOr<std::map<std::string, at::Tensor>> Prefixed(const core::SafetensorsFile& io, const std::string& prefix) {
  std::map<std::string, at::Tensor> out;
  for (const std::string& name : io.names()) {
    if (!absl::StartsWith(name, prefix)) continue;
    ASSIGN_OR_RETURN(out[name.substr(prefix.size())], io.Load(name, torch::kFloat));
  }
  if (out.empty()) return absl::NotFoundError(absl::StrCat("no tensors named ", prefix, "*"));
  return out;
}

absl::Status CheckWeights(const trainer::TrainableLora& lora, const core::SafetensorsFile& io,
                          const std::string& prefix, double atol, double rtol, CaseResult& result) {
  ASSIGN_OR_RETURN(auto expected, Prefixed(io, prefix));
  std::vector<at::Tensor> actual_all, expected_all;
  for (const auto& [name, tensor] : lora.named_parameters()) {
    auto found = expected.find(name);
    if (found == expected.end()) return absl::NotFoundError(absl::StrCat("reference lacks ", prefix, name));
    actual_all.push_back(tensor.detach().flatten());
    expected_all.push_back(found->second.flatten());
  }
  if (expected.size() != lora.named_parameters().size()) {
    return absl::FailedPreconditionError(absl::StrCat("the reference has ", expected.size(), " ", prefix,
                                                      " tensors, the adapter ", lora.named_parameters().size()));
  }
  Check(prefix + "* (" + std::to_string(actual_all.size()) + " tensors)", torch::cat(actual_all),
        torch::cat(expected_all), atol, rtol, result);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CaseResult> RunDreamBoothLoraTrainCase(const ParityCase& c, const RunOptions& options) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, c.spec.StringList("files"));
  if (files.empty()) return absl::InvalidArgumentError(absl::StrCat(c.name, ": no files"));
  ASSIGN_OR_RETURN(core::JsonConfig atol, c.spec.Object("atol"));
  ASSIGN_OR_RETURN(const double atol_loss, atol.Double("loss"));
  ASSIGN_OR_RETURN(const double atol_weights, atol.Double("weights"));
  ASSIGN_OR_RETURN(const double atol_grads, atol.Double("grads"));
  ASSIGN_OR_RETURN(const double rtol, c.spec.Double("rtol"));
  ASSIGN_OR_RETURN(const int64_t rank, c.spec.Int("rank"));
  ASSIGN_OR_RETURN(const double lr, c.spec.Double("lr"));
  const nlohmann::json betas_json = nlohmann::json::parse(c.spec.RawJson("betas"), nullptr, false);
  std::vector<double> betas;
  if (betas_json.is_array()) {
    for (const auto& b : betas_json) {
      if (b.is_number()) betas.push_back(b.get<double>());
    }
  }
  ASSIGN_OR_RETURN(const double weight_decay, c.spec.Double("weight_decay"));
  ASSIGN_OR_RETURN(const double eps, c.spec.Double("eps"));
  trainer::DreamBoothOptions step_options;
  ASSIGN_OR_RETURN(step_options.max_grad_norm, c.spec.Double("max_grad_norm"));
  ASSIGN_OR_RETURN(step_options.prior_loss_weight, c.spec.Double("prior_loss_weight"));
  if (betas.size() != 2) return absl::InvalidArgumentError(absl::StrCat(c.name, ": betas needs two values"));

  const std::string model = c.Path("tiny_sd");
  ASSIGN_OR_RETURN(auto unet,
                   models::LoadModelFromFolder<models::unet::UNet2DConditionModel>(model + "/unet", options.device));
  ASSIGN_OR_RETURN(auto text_encoder,
                   models::LoadModelFromFolder<models::clip::ClipTextModel>(model + "/text_encoder", options.device));
  diffusion::SchedulerChoice ddpm;
  ddpm.name = "ddpm";  // the training script's noise scheduler
  ASSIGN_OR_RETURN(std::unique_ptr<diffusion::Scheduler> scheduler, diffusion::LoadScheduler(model, ddpm));
  ASSIGN_OR_RETURN(core::SafetensorsFile io, core::SafetensorsFile::Open(c.Path(files[0])));

  CaseResult result;
  at::Tensor encoder_hidden_states;
  {
    torch::NoGradGuard no_grad;  // the text encoder is frozen
    ASSIGN_OR_RETURN(at::Tensor input_ids, io.Load("input_ids"));
    ASSIGN_OR_RETURN(models::clip::ClipTextOutput text, text_encoder->Forward(input_ids));
    encoder_hidden_states = text.last_hidden_state;
  }
  ASSIGN_OR_RETURN(at::Tensor expected_ehs, io.Load("step1.encoder_hidden_states", torch::kFloat));
  Check("encoder_hidden_states", encoder_hidden_states, expected_ehs, atol_loss, rtol, result);

  trainer::FreezeParameters(unet->module());
  ASSIGN_OR_RETURN(models::lora::AdaptableModules modules,
                   models::lora::AdaptableModules::Index(unet->module(), models::lora::LoraComponent::kUNet));
  trainer::LoraTrainingOptions lora_options;
  lora_options.rank = rank;
  ASSIGN_OR_RETURN(std::unique_ptr<trainer::TrainableLora> lora,
                   trainer::TrainableLora::Attach(modules, lora_options, at::detail::getDefaultCPUGenerator()));
  ASSIGN_OR_RETURN(auto init, Prefixed(io, "init."));
  RETURN_IF_ERROR(lora->Load(init));
  const std::vector<at::Tensor> params = lora->parameters();
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(lr)
                                            .betas({betas[0], betas[1]})
                                            .eps(eps)
                                            .weight_decay(weight_decay));

  ASSIGN_OR_RETURN(at::Tensor latents, io.Load("model_input_latents", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor noise, io.Load("noise", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor timesteps, io.Load("timesteps"));
  ASSIGN_OR_RETURN(at::Tensor expected_loss, io.Load("loss", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor expected_instance, io.Load("instance_loss", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor expected_prior, io.Load("prior_loss", torch::kFloat));
  ASSIGN_OR_RETURN(at::Tensor expected_norm, io.Load("grad_norm_before_clip", torch::kFloat));
  const int64_t steps = noise.size(0);
  std::vector<double> losses, instance_losses, prior_losses, norms;
  for (int64_t i = 0; i < steps; ++i) {
    trainer::DreamBoothBatch batch;
    batch.latents = latents;
    batch.encoder_hidden_states = encoder_hidden_states;
    batch.noise = noise[i];
    batch.timesteps = timesteps[i];
    ASSIGN_OR_RETURN(trainer::DreamBoothLoss loss,
                     trainer::ComputeDreamBoothLoss(*unet, *scheduler, batch, step_options));
    losses.push_back(loss.loss.item<double>());
    instance_losses.push_back(loss.instance_loss.item<double>());
    prior_losses.push_back(loss.prior_loss.item<double>());
    if (i == 0) {
      ASSIGN_OR_RETURN(at::Tensor noisy, io.Load("step1.noisy_model_input", torch::kFloat));
      ASSIGN_OR_RETURN(at::Tensor pred, io.Load("step1.model_pred", torch::kFloat));
      Check("step1.noisy_model_input", loss.noisy, noisy, atol_loss, rtol, result);
      Check("step1.model_pred", loss.model_pred, pred, atol_loss, rtol, result);
    }
    norms.push_back(trainer::BackwardAndClip(loss.loss, params, step_options.max_grad_norm));
    if (i == 0) {
      ASSIGN_OR_RETURN(auto grads, Prefixed(io, "step1.grad_clipped."));
      std::vector<at::Tensor> actual, expected;
      for (const auto& [name, p] : lora->named_parameters()) {
        actual.push_back(p.grad().flatten());
        expected.push_back(grads.at(name).flatten());
      }
      Check("step1.grad_clipped.* (" + std::to_string(actual.size()) + " tensors)", torch::cat(actual),
            torch::cat(expected), atol_grads, rtol, result);
    }
    optimizer.step();
    optimizer.zero_grad();
    if (i == 0) RETURN_IF_ERROR(CheckWeights(*lora, io, "after_step1.", atol_weights, rtol, result));
  }
  RETURN_IF_ERROR(CheckWeights(*lora, io, "after_step3.", atol_weights, rtol, result));
  const auto as_tensor = [](const std::vector<double>& v) { return torch::tensor(v, torch::kDouble); };
  Check("loss", as_tensor(losses), expected_loss.to(torch::kDouble), atol_loss, rtol, result);
  Check("instance_loss", as_tensor(instance_losses), expected_instance.to(torch::kDouble), atol_loss, rtol, result);
  Check("prior_loss", as_tensor(prior_losses), expected_prior.to(torch::kDouble), atol_loss, rtol, result);
  Check("grad_norm_before_clip", as_tensor(norms), expected_norm.to(torch::kDouble), atol_grads, rtol, result);
  return result;
}

}  // namespace dreamshot::parity

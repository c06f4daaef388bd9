#include "services/train_config.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/device.h"
#include "core/status_macros.h"
#include "trainer/instance_images.h"
#include "trainer/lr_schedule.h"

namespace dreamshot::services {
namespace {

namespace fs = std::filesystem;

absl::Status Positive(const char* field, double value) {
  if (value > 0 && std::isfinite(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " must be a finite number above 0, got ", value));
}

}  // namespace

absl::Status ResolveTrainConfig(v1::TrainConfig* c, const TrainInputs& inputs) {
  if (c->base_model().empty()) return absl::InvalidArgumentError("base_model: give a diffusers folder");
  if (!fs::path(c->base_model()).is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat("base_model '", c->base_model(), "' must be an absolute path on the server's machine"));
  }
  for (const char* part : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}) {
    if (!fs::is_directory(fs::path(c->base_model()) / part)) {
      return absl::FailedPreconditionError(
          absl::StrCat("base_model: ", c->base_model(), " lacks ", part, "/ (a diffusers Stable Diffusion folder)"));
    }
  }
  if (c->pool_run_id() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("pool_run_id must be a run id, got ", c->pool_run_id()));
  }
  if (c->pool_run_id() == 0 && !c->pool_split().empty()) {
    return absl::InvalidArgumentError("pool_split: give pool_run_id too (the dataset-building run)");
  }
  if (c->pool_run_id() != 0 && !c->instance_dir().empty()) {
    return absl::InvalidArgumentError("give instance_dir or pool_run_id, not both");
  }
  if (c->pool_run_id() == 0 && c->instance_dir().empty()) {
    return absl::InvalidArgumentError("instance_dir: give a folder of images (or pool_run_id for a dataset pool)");
  }
  if (c->instance_prompt().empty()) c->set_instance_prompt("a {token} {scale} shot, {caption}");
  if (c->class_prompt().empty()) c->set_class_prompt("a {scale} shot, {caption}");
  if (c->token().empty()) c->set_token("sks");
  if (!c->shot_scale().empty() && c->shot_scale() != "close" && c->shot_scale() != "medium" &&
      c->shot_scale() != "long") {
    return absl::InvalidArgumentError(
        absl::StrCat("shot_scale must be close, medium, long or empty, got '", c->shot_scale(), "'"));
  }
  RETURN_IF_ERROR(ListInstances(*c, inputs).status());
  if (!c->has_with_prior_preservation()) c->set_with_prior_preservation(true);
  if (c->num_class_images() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_class_images must not be negative, got ", c->num_class_images()));
  }
  if (c->with_prior_preservation()) {
    if (c->class_dir().empty() && c->num_class_images() == 0) {
      return absl::InvalidArgumentError(
          "class_dir: prior preservation needs class images: give class_dir, num_class_images (generated with "
          "the base model), or with_prior_preservation = false");
    }
    if (c->num_class_images() == 0) RETURN_IF_ERROR(trainer::ListImageFolder(c->class_dir()).status());
  }
  if (!c->has_resolution()) c->set_resolution(512);
  if (c->resolution() <= 0 || c->resolution() % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("resolution must be a positive multiple of 8, got ", c->resolution()));
  }
  if (!c->has_rank()) c->set_rank(4);
  if (c->rank() <= 0) return absl::InvalidArgumentError(absl::StrCat("rank must be positive, got ", c->rank()));
  if (c->has_alpha()) RETURN_IF_ERROR(Positive("alpha", c->alpha()));
  if (c->target_modules_size() == 0) {
    for (const char* t : {"to_q", "to_k", "to_v", "to_out.0"}) c->add_target_modules(t);
  }
  if (!c->has_learning_rate()) c->set_learning_rate(1e-4);
  RETURN_IF_ERROR(Positive("learning_rate", c->learning_rate()));
  if (c->lr_scheduler().empty()) c->set_lr_scheduler("constant");
  if (!c->has_max_train_steps()) c->set_max_train_steps(400);
  trainer::LrScheduleOptions schedule;
  schedule.name = c->lr_scheduler();
  schedule.base_lr = c->learning_rate();
  schedule.warmup_steps = c->lr_warmup_steps();
  schedule.total_steps = c->max_train_steps();
  RETURN_IF_ERROR(trainer::LrSchedule::Create(schedule).status());
  if (!c->has_train_batch_size()) c->set_train_batch_size(1);
  if (c->train_batch_size() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("train_batch_size must be positive, got ", c->train_batch_size()));
  }
  if (!c->has_gradient_accumulation_steps()) c->set_gradient_accumulation_steps(1);
  if (c->gradient_accumulation_steps() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("gradient_accumulation_steps must be positive, got ", c->gradient_accumulation_steps()));
  }
  if (!c->has_prior_loss_weight()) c->set_prior_loss_weight(1.0);
  if (!(c->prior_loss_weight() >= 0) || !std::isfinite(c->prior_loss_weight())) {
    return absl::InvalidArgumentError(absl::StrCat("prior_loss_weight must be ≥ 0, got ", c->prior_loss_weight()));
  }
  if (!c->has_max_grad_norm()) c->set_max_grad_norm(1.0);
  if (c->checkpointing_steps() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpointing_steps must not be negative, got ", c->checkpointing_steps()));
  }
  if (c->adapter_format().empty()) c->set_adapter_format("peft");
  if (c->adapter_format() != "peft" && c->adapter_format() != "kohya") {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter_format must be peft or kohya, got '", c->adapter_format(), "'"));
  }
  if (c->validation_steps() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation_steps must not be negative, got ", c->validation_steps()));
  }
  if (c->validation_steps() > 0) {
    if (c->validation_prompts_size() == 0) {
      c->add_validation_prompts(trainer::FillPrompt(c->instance_prompt(), c->token(), c->shot_scale(), ""));
    }
    if (c->validation_seeds_size() == 0) c->add_validation_seeds(0);
    if (!c->has_validation_inference_steps()) c->set_validation_inference_steps(25);
    if (c->validation_inference_steps() <= 0 || c->validation_inference_steps() > 1000) {
      return absl::InvalidArgumentError(absl::StrCat("validation_inference_steps must be in [1, 1000], got ",
                                                     c->validation_inference_steps()));
    }
  }
  if (c->has_snr_gamma()) RETURN_IF_ERROR(Positive("snr_gamma", c->snr_gamma()));
  if (c->has_noise_offset() && (!std::isfinite(c->noise_offset()) || c->noise_offset() < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("noise_offset must be ≥ 0, got ", c->noise_offset()));
  }
  if (!c->has_center_crop()) c->set_center_crop(true);
  if (!c->has_cache_latents()) c->set_cache_latents(true);
  if (c->device().empty()) c->set_device("cpu");
  RETURN_IF_ERROR(core::ParseDeviceSpec(c->device(), "float32").status());
  return absl::OkStatus();
}

}  // namespace dreamshot::services

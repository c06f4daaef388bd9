#include "services/train_job.h"

#include <torch/torch.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/status_macros.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "dreamshot/v1/trainer.pb.h"
#include "experiments/artifact_writes.h"
#include "models/clip/text_model.h"
#include "models/clip/tokenizer.h"
#include "models/load_model.h"
#include "models/lora/lora_file.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"
#include "services/experiment_convert.h"
#include "trainer/instance_images.h"
#include "trainer/trainable_lora.h"
#include "trainer/training_loop.h"

namespace dreamshot::services {
namespace {

namespace fs = std::filesystem;

void Progress(const jobs::JobContext& ctx, const std::string& message, int64_t step = 0, int64_t max_steps = 0) {
  v1::TrainProgress p;
  p.set_run_id(ctx.run_id());
  p.set_message(message);
  p.set_step(step);
  p.set_max_steps(max_steps);
  ctx.Progress(p);
}

absl::StatusOr<std::vector<trainer::PromptedImage>> Prompted(const std::string& dir, const std::string& templ,
                                                             const v1::TrainConfig& c) {
  ASSIGN_OR_RETURN(std::vector<trainer::CaptionedImage> images, trainer::ListImageFolder(dir));
  std::vector<trainer::PromptedImage> out;
  for (const auto& i : images) out.push_back({i.path, trainer::FillPrompt(templ, c.token(), c.shot_scale(), i.caption)});
  return out;
}

absl::Status RunTrain(experiments::ExperimentStore* runs, experiments::ArtifactStore* artifacts,
                      experiments::ArtifactBlobs* blobs, const std::string& checkpoint_root, jobs::JobContext& ctx) {
  v1::TrainConfig c;
  RETURN_IF_ERROR(ctx.ReadConfig(&c));
  ASSIGN_OR_RETURN(core::DeviceSpec device, core::ParseDeviceSpec(c.device(), "float32"));
  Progress(ctx, "loading the base model");
  using models::LoadModelFromFolder;
  ASSIGN_OR_RETURN(auto unet, LoadModelFromFolder<models::unet::UNet2DConditionModel>(c.base_model() + "/unet", device));
  ASSIGN_OR_RETURN(auto vae, LoadModelFromFolder<models::vae::AutoencoderKL>(c.base_model() + "/vae", device));
  ASSIGN_OR_RETURN(auto text,
                   LoadModelFromFolder<models::clip::ClipTextModel>(c.base_model() + "/text_encoder", device));
  ASSIGN_OR_RETURN(auto tokenizer, models::clip::ClipTokenizer::FromFolder(c.base_model() + "/tokenizer"));
  diffusion::SchedulerChoice ddpm;
  ddpm.name = "ddpm";  // training adds noise as DDPM does, whatever the model samples with
  ASSIGN_OR_RETURN(std::unique_ptr<diffusion::Scheduler> scheduler, diffusion::LoadScheduler(c.base_model(), ddpm));

  Progress(ctx, "encoding images");
  at::Generator encode_generator = at::detail::createCPUGenerator(c.seed());
  trainer::EncodingReport report;
  trainer::TrainingData data;
  ASSIGN_OR_RETURN(auto instance, Prompted(c.instance_dir(), c.instance_prompt(), c));
  ASSIGN_OR_RETURN(data.instance,
                   trainer::EncodeImages(*vae, tokenizer, *text, instance, c.resolution(), encode_generator, &report));
  if (c.with_prior_preservation()) {
    ASSIGN_OR_RETURN(auto prior, Prompted(c.class_dir(), c.class_prompt(), c));
    ASSIGN_OR_RETURN(data.prior,
                     trainer::EncodeImages(*vae, tokenizer, *text, prior, c.resolution(), encode_generator, &report));
  }
  vae.reset();
  text.reset();

  trainer::FreezeParameters(unet->module());
  ASSIGN_OR_RETURN(models::lora::AdaptableModules modules,
                   models::lora::AdaptableModules::Index(unet->module(), models::lora::LoraComponent::kUNet));
  trainer::LoraTrainingOptions lora_options;
  lora_options.rank = c.rank();
  lora_options.alpha = c.has_alpha() ? c.alpha() : 0;
  lora_options.target_modules = {c.target_modules().begin(), c.target_modules().end()};
  ASSIGN_OR_RETURN(std::unique_ptr<trainer::TrainableLora> lora,
                   trainer::TrainableLora::Attach(modules, lora_options, at::detail::createCPUGenerator(c.seed())));

  trainer::TrainingLoopOptions loop;
  loop.max_steps = c.max_train_steps();
  loop.batch_size = c.train_batch_size();
  loop.gradient_accumulation = c.gradient_accumulation_steps();
  loop.seed = c.seed();
  loop.lr.name = c.lr_scheduler();
  loop.lr.base_lr = c.learning_rate();
  loop.lr.warmup_steps = c.lr_warmup_steps();
  loop.step.with_prior_preservation = c.with_prior_preservation();
  loop.step.prior_loss_weight = c.prior_loss_weight();
  loop.step.max_grad_norm = c.max_grad_norm();
  loop.checkpoint_every = c.checkpointing_steps();
  const fs::path job_dir = fs::path(checkpoint_root) / absl::StrCat("job-", ctx.job().id);
  RETURN_IF_ERROR(core::MakeDirectories(job_dir.string()));
  loop.checkpoint_path = (job_dir / "checkpoint.safetensors").string();
  loop.identity = {{"dreamshot.base_model", c.base_model()}, {"dreamshot.config", ctx.job().config_json}};

  absl::Status logging = absl::OkStatus();
  auto on_step = [&](const trainer::StepReport& r) {
    std::vector<experiments::MetricPoint> points = {
        {"loss", r.step, r.loss, 0},           {"instance_loss", r.step, r.instance_loss, 0},
        {"prior_loss", r.step, r.prior_loss, 0}, {"learning_rate", r.step, r.learning_rate, 0},
        {"grad_norm", r.step, r.grad_norm, 0},   {"seconds_per_step", r.step, r.seconds, 0}};
    // A step redone after a crash (from the last checkpoint) makes the same
    // values; its request id makes the second logging a no-op.
    if (logging.ok()) {
      logging = runs->LogMetrics(ctx.run_id(), std::move(points), absl::StrCat("train-job-", ctx.job().id, "-step-", r.step))
                    .status();
    }
    v1::TrainProgress p;
    p.set_run_id(ctx.run_id());
    p.set_message("training");
    p.set_step(r.step);
    p.set_max_steps(r.max_steps);
    p.set_loss(r.loss);
    p.set_learning_rate(r.learning_rate);
    p.set_seconds_per_step(r.seconds);
    ctx.Progress(p);
  };
  ASSIGN_OR_RETURN(trainer::TrainingSummary summary,
                   trainer::RunTrainingLoop(*unet, *scheduler, *lora, data, loop, on_step, &ctx.cancel_flag()));
  RETURN_IF_ERROR(logging);

  Progress(ctx, "saving the adapter", summary.steps, c.max_train_steps());
  models::lora::LoraWeights weights = lora->ToLoraWeights();
  weights.metadata = {{"dreamshot.base_model", c.base_model()},
                      {"dreamshot.run_id", absl::StrCat(ctx.run_id())},
                      {"dreamshot.token", c.token()},
                      {"dreamshot.shot_scale", c.shot_scale()},
                      {"dreamshot.steps", absl::StrCat(summary.steps)},
                      {"dreamshot.train_config", ctx.job().config_json}};
  const std::string file = (job_dir / "pytorch_lora_weights.safetensors").string();
  RETURN_IF_ERROR(models::lora::WriteLoraFile(file, weights, models::lora::LoraFileFormat::kPeft));
  experiments::Artifact artifact;
  artifact.run_id = ctx.run_id();
  artifact.kind = "lora";
  artifact.path = absl::StrCat(ctx.path_prefix(), "/pytorch_lora_weights.safetensors");
  ASSIGN_OR_RETURN(experiments::Artifact stored, experiments::AddArtifactFile(*artifacts, *blobs, artifact, file));

  v1::TrainResult result;
  result.set_run_id(ctx.run_id());
  ToProto(stored, result.mutable_adapter());
  result.set_steps(summary.steps);
  result.set_resumed_from(summary.resumed_from);
  for (const std::string& s : report.skipped) result.add_skipped_images(s);
  ctx.Output(result);
  return absl::OkStatus();
}

}  // namespace

jobs::JobKind TrainJobKind(experiments::ExperimentStore* runs, experiments::ArtifactStore* artifacts,
                           experiments::ArtifactBlobs* blobs, std::string checkpoint_root) {
  jobs::JobKind kind;
  kind.name = kTrainJob;
  kind.resumable = true;  // from its checkpoint
  kind.run = [runs, artifacts, blobs, root = std::move(checkpoint_root)](jobs::JobContext& ctx) {
    return RunTrain(runs, artifacts, blobs, root, ctx);
  };
  return kind;
}

}  // namespace dreamshot::services

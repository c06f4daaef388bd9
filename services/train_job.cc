#include "services/train_job.h"

#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/process_memory.h"
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
#include "services/adapter_metadata.h"
#include "services/experiment_convert.h"
#include "services/train_instances.h"
#include "services/train_validation.h"
#include "trainer/class_images.h"
#include "trainer/instance_images.h"
#include "trainer/pool_images.h"
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

std::vector<trainer::PromptedImage> Prompted(const std::vector<trainer::CaptionedImage>& images,
                                             const std::string& templ, const v1::TrainConfig& c) {
  std::vector<trainer::PromptedImage> out;
  for (const auto& i : images) out.push_back({i.path, trainer::FillPrompt(templ, c.token(), c.shot_scale(), i.caption)});
  return out;
}

// kohya's tools list adapters by file name: say what it is.
std::string AdapterFileName(const v1::TrainConfig& c, int64_t run_id) {
  if (c.adapter_format() != "kohya") return "pytorch_lora_weights.safetensors";
  return absl::StrCat("dreamshot_", c.shot_scale().empty() ? "" : c.shot_scale() + "_", c.token(), "_run", run_id,
                      ".safetensors");
}

absl::Status RunTrain(const TrainJobDeps& deps, jobs::JobContext& ctx) {
  const int64_t started_ms = absl::ToUnixMillis(absl::Now());
  v1::TrainConfig c;
  RETURN_IF_ERROR(ctx.ReadConfig(&c));
  ASSIGN_OR_RETURN(core::DeviceSpec device, core::ParseDeviceSpec(c.device(), "float32"));
  ASSIGN_OR_RETURN(InstanceSet instances, ListInstances(c, {deps.datasets, deps.artifacts}));
  ASSIGN_OR_RETURN(std::string dataset_sha256, trainer::ImageSetSha256(instances.images));
  Progress(ctx, "loading the base model");
  ASSIGN_OR_RETURN(std::string base_sha256, deps.models->ContentHash(c.base_model(), ""));
  using models::LoadModelFromFolder;
  ASSIGN_OR_RETURN(auto unet, LoadModelFromFolder<models::unet::UNet2DConditionModel>(c.base_model() + "/unet", device));
  ASSIGN_OR_RETURN(auto vae, LoadModelFromFolder<models::vae::AutoencoderKL>(c.base_model() + "/vae", device));
  ASSIGN_OR_RETURN(auto text,
                   LoadModelFromFolder<models::clip::ClipTextModel>(c.base_model() + "/text_encoder", device));
  ASSIGN_OR_RETURN(auto tokenizer, models::clip::ClipTokenizer::FromFolder(c.base_model() + "/tokenizer"));
  diffusion::SchedulerChoice ddpm;
  ddpm.name = "ddpm";  // training adds noise as DDPM does, whatever the model samples with
  ASSIGN_OR_RETURN(std::unique_ptr<diffusion::Scheduler> scheduler, diffusion::LoadScheduler(c.base_model(), ddpm));

  int64_t class_generated = 0, class_images = 0;
  std::vector<trainer::PromptedImage> class_prompted;
  if (c.with_prior_preservation() && c.num_class_images() > 0) {
    trainer::ClassImageRequest request;
    request.base = {c.base_model(), "", device};
    // The class template filled with the instance captions in turn, so the
    // prior images show what the instance images show, in the base model's
    // own idea of the scale.
    for (const auto& image : instances.images) {
      request.prompts.push_back(trainer::FillPrompt(c.class_prompt(), c.token(), c.shot_scale(), image.caption));
    }
    request.num_class_images = c.num_class_images();
    request.class_dir = c.class_dir();
    request.cache_root = deps.cache_root;
    request.seed = c.seed();
    request.settings.width = request.settings.height = c.resolution();
    auto on_progress = [&](const trainer::ClassImageProgress& p) {
      Progress(ctx, absl::StrCat("generating class images (", p.generated, " of ", p.to_generate, ")"));
    };
    ASSIGN_OR_RETURN(trainer::ClassImageResult generated,
                     trainer::EnsureClassImages(*deps.models, request, on_progress, &ctx.cancel_flag()));
    class_generated = generated.generated;
    class_prompted = generated.Prompted();
  } else if (c.with_prior_preservation()) {
    ASSIGN_OR_RETURN(std::vector<trainer::CaptionedImage> class_files, trainer::ListImageFolder(c.class_dir()));
    class_prompted = Prompted(class_files, c.class_prompt(), c);
  }
  class_images = static_cast<int64_t>(class_prompted.size());

  Progress(ctx, "encoding images");
  at::Generator encode_generator = at::detail::createCPUGenerator(c.seed());
  trainer::EncodeOptions encode;
  encode.resolution = c.resolution();
  encode.transform.crop = c.center_crop() ? trainer::CropMode::kCenter : trainer::CropMode::kRandom;
  encode.transform.random_flip = c.random_flip();
  encode.transform.seed = c.seed();
  encode.cache_root = c.cache_latents() ? deps.cache_root : "";
  encode.input_ids = c.train_text_encoder();
  trainer::EncodingReport report;
  trainer::TrainingData data;
  ASSIGN_OR_RETURN(data.instance, trainer::EncodeImages(*vae, tokenizer, *text,
                                                        Prompted(instances.images, c.instance_prompt(), c), encode,
                                                        encode_generator, &report));
  if (!class_prompted.empty()) {
    // The same VAE and text encoder: their weights are hashed once.
    encode.vae_fingerprint = report.vae_fingerprint;
    encode.text_encoder_fingerprint = report.text_encoder_fingerprint;
    ASSIGN_OR_RETURN(data.prior,
                     trainer::EncodeImages(*vae, tokenizer, *text, class_prompted, encode, encode_generator, &report));
  }
  vae.reset();
  if (!c.train_text_encoder()) text.reset();

  // One generator initialises the UNet's adapter, then the text encoder's,
  // as upstream draws both from the global RNG in that order.
  at::Generator init_generator = at::detail::createCPUGenerator(c.seed());
  trainer::FreezeParameters(unet->module());
  ASSIGN_OR_RETURN(models::lora::AdaptableModules modules,
                   models::lora::AdaptableModules::Index(unet->module(), models::lora::LoraComponent::kUNet));
  trainer::LoraTrainingOptions lora_options;
  lora_options.rank = c.rank();
  lora_options.alpha = c.has_alpha() ? c.alpha() : 0;
  lora_options.target_modules = {c.target_modules().begin(), c.target_modules().end()};
  ASSIGN_OR_RETURN(std::unique_ptr<trainer::TrainableLora> lora,
                   trainer::TrainableLora::Attach(modules, lora_options, init_generator));
  std::unique_ptr<trainer::TrainableLora> text_lora;
  std::optional<models::lora::AdaptableModules> text_modules;
  if (c.train_text_encoder()) {
    trainer::FreezeParameters(text->module());
    ASSIGN_OR_RETURN(text_modules, models::lora::AdaptableModules::Index(text->module(),
                                                                         models::lora::LoraComponent::kTextEncoder));
    trainer::LoraTrainingOptions text_options = lora_options;
    text_options.target_modules = trainer::kTextEncoderTargets;
    ASSIGN_OR_RETURN(text_lora, trainer::TrainableLora::Attach(*text_modules, text_options, init_generator));
  }
  auto adapter_weights = [&]() { return trainer::ToLoraWeights(*lora, text_lora.get()); };

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
  loop.step.snr_gamma = c.has_snr_gamma() ? c.snr_gamma() : 0;
  loop.step.noise_offset = c.has_noise_offset() ? c.noise_offset() : 0;
  loop.gradient_checkpointing = c.gradient_checkpointing();
  loop.checkpoint_every = c.checkpointing_steps();
  const fs::path job_dir = fs::path(deps.checkpoint_root) / absl::StrCat("job-", ctx.job().id);
  RETURN_IF_ERROR(core::MakeDirectories(job_dir.string()));
  loop.checkpoint_path = (job_dir / "checkpoint.safetensors").string();
  // A checkpoint resumes only the same training: same config, and the same
  // weights behind the base model's path.
  loop.identity = {{"dreamshot.base_model", c.base_model()},
                   {"dreamshot.base_model_sha256", base_sha256},
                   {"dreamshot.config", ctx.job().config_json}};

  std::unique_ptr<TrainValidation> validation;
  if (c.validation_steps() > 0) {
    ValidationSettings v;
    v.base = {c.base_model(), "", device};
    v.prompts = {c.validation_prompts().begin(), c.validation_prompts().end()};
    v.seeds = {c.validation_seeds().begin(), c.validation_seeds().end()};
    v.resolution = c.resolution();
    v.steps = c.validation_inference_steps();
    v.scratch_dir = job_dir.string();
    v.run_id = ctx.run_id();
    v.path_prefix = ctx.path_prefix();
    validation = std::make_unique<TrainValidation>(std::move(v), deps.models, deps.artifacts, deps.blobs);
  }
  int64_t validation_images = 0;

  // Images one optimizer step sees: instance and class examples of every
  // micro-batch.
  const double images_per_step = static_cast<double>(c.train_batch_size()) * c.gradient_accumulation_steps() *
                                 (c.with_prior_preservation() ? 2 : 1);
  absl::Status logging = absl::OkStatus();
  core::CancelFlag finish_early;
  std::string early_stop_verdict;
  auto on_step = [&](const trainer::StepReport& r) {
    std::vector<experiments::MetricPoint> points = {
        {"loss", r.step, r.loss, 0},
        {"instance_loss", r.step, r.instance_loss, 0},
        {"prior_loss", r.step, r.prior_loss, 0},
        {"learning_rate", r.step, r.learning_rate, 0},
        {"grad_norm", r.step, r.grad_norm, 0},
        {"seconds_per_step", r.step, r.seconds, 0},
        {"images_per_second", r.step, r.seconds > 0 ? images_per_step / r.seconds : 0, 0},
        {"peak_rss_bytes", r.step, static_cast<double>(core::PeakRssBytes()), 0}};
    // A step redone after a crash (from the last checkpoint) makes the same
    // values; its request id makes the second logging a no-op.
    if (logging.ok()) {
      logging = deps.runs
                    ->LogMetrics(ctx.run_id(), std::move(points),
                                 absl::StrCat("train-job-", ctx.job().id, "-step-", r.step))
                    .status();
    }
    if (logging.ok() && validation && r.step % c.validation_steps() == 0) {
      Progress(ctx, absl::StrCat("validation images at step ", r.step), r.step, r.max_steps);
      absl::StatusOr<models::lora::LoraWeights> weights = adapter_weights();
      absl::StatusOr<int64_t> stored =
          weights.ok() ? validation->Render(r.step, *weights, &ctx.cancel_flag()) : weights.status();
      if (stored.ok()) {
        validation_images += *stored;
      } else if (stored.status().code() != absl::StatusCode::kCancelled) {
        logging = stored.status();  // reported when the loop returns
      }
    }
    v1::TrainProgress p;
    p.set_run_id(ctx.run_id());
    p.set_message("training");
    p.set_step(r.step);
    p.set_max_steps(r.max_steps);
    p.set_loss(r.loss);
    p.set_learning_rate(r.learning_rate);
    p.set_seconds_per_step(r.seconds);
    ctx.Progress(p);  // a sweep's early-stop rule looks at this step here
    if (deps.early_stops != nullptr && early_stop_verdict.empty()) {
      if (std::optional<std::string> verdict = deps.early_stops->Take(ctx.job().id)) {
        early_stop_verdict = *verdict;
        finish_early.Cancel();
      }
    }
  };
  ASSIGN_OR_RETURN(trainer::TrainingSummary summary,
                   trainer::RunTrainingLoop({unet.get(), lora.get(), text.get(), text_lora.get()}, *scheduler, data,
                                            loop, on_step, &ctx.cancel_flag(), &finish_early));
  RETURN_IF_ERROR(logging);
  if (summary.finished_early) {
    RETURN_IF_ERROR(deps.runs->SetTags(ctx.run_id(), {{kEarlyStopTag, early_stop_verdict}}, {}).status());
    ASSIGN_OR_RETURN(experiments::Run run, deps.runs->GetRun(ctx.run_id()));
    experiments::RunUpdate note;
    note.notes = absl::StrCat(run.notes, run.notes.empty() ? "" : "\n", "finished early at step ", summary.steps,
                              " of ", c.max_train_steps(), ": ", early_stop_verdict);
    RETURN_IF_ERROR(deps.runs->UpdateRun(ctx.run_id(), note).status());
  }

  Progress(ctx, "saving the adapter", summary.steps, c.max_train_steps());
  ASSIGN_OR_RETURN(models::lora::LoraWeights weights, adapter_weights());
  AdapterFacts facts;
  facts.base_model_sha256 = base_sha256;
  facts.dataset_sha256 = dataset_sha256;
  facts.dataset_source = instances.source;
  for (const auto& image : instances.images) facts.captions.push_back(image.caption);
  facts.class_images = class_images;
  facts.run_id = ctx.run_id();
  facts.steps = summary.steps;
  facts.started_ms = started_ms;
  facts.finished_ms = absl::ToUnixMillis(absl::Now());
  weights.metadata = AdapterMetadata(c, facts);
  const std::string name = AdapterFileName(c, ctx.run_id());
  const std::string file = (job_dir / name).string();
  RETURN_IF_ERROR(models::lora::WriteLoraFile(
      file, weights, c.adapter_format() == "kohya" ? models::lora::LoraFileFormat::kKohya
                                                   : models::lora::LoraFileFormat::kPeft));
  experiments::Artifact artifact;
  artifact.run_id = ctx.run_id();
  artifact.kind = "lora";
  artifact.path = absl::StrCat(ctx.path_prefix(), "/", name);
  ASSIGN_OR_RETURN(experiments::Artifact stored,
                   experiments::AddArtifactFile(*deps.artifacts, *deps.blobs, artifact, file));

  v1::TrainResult result;
  result.set_run_id(ctx.run_id());
  ToProto(stored, result.mutable_adapter());
  result.set_steps(summary.steps);
  result.set_resumed_from(summary.resumed_from);
  for (const std::string& s : report.skipped) result.add_skipped_images(s);
  result.set_base_model_sha256(base_sha256);
  result.set_dataset_sha256(dataset_sha256);
  result.set_validation_images(validation_images);
  result.set_peak_rss_bytes(core::PeakRssBytes());
  result.set_class_images_generated(class_generated);
  if (summary.finished_early) result.set_stopped_early(early_stop_verdict);
  ctx.Output(result);
  return absl::OkStatus();
}

}  // namespace

jobs::JobKind TrainJobKind(TrainJobDeps deps) {
  jobs::JobKind kind;
  kind.name = kTrainJob;
  kind.resumable = true;  // from its checkpoint
  kind.run = [deps = std::move(deps)](jobs::JobContext& ctx) { return RunTrain(deps, ctx); };
  return kind;
}

}  // namespace dreamshot::services

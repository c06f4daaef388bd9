// dreamshot train: a DreamBooth-LoRA training job (TrainerService), followed
// to its end like `dreamshot jobs watch` (or left running with --detach).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"
#include "cli/job_follow.h"
#include "dreamshot/v1/trainer.grpc.pb.h"

namespace dreamshot::cli {
namespace {

absl::Status IntFlag(const Args& args, const char* flag, const std::function<void(int32_t)>& set) {
  if (auto v = args.Get(flag)) {
    absl::StatusOr<int64_t> n = ParseInt64(*v, absl::StrCat("--", flag));
    if (!n.ok()) return n.status();
    set(static_cast<int32_t>(*n));
  }
  return absl::OkStatus();
}

absl::Status DoubleFlag(const Args& args, const char* flag, const std::function<void(double)>& set) {
  if (auto v = args.Get(flag)) {
    absl::StatusOr<double> x = ParseDouble(*v, absl::StrCat("--", flag));
    if (!x.ok()) return x.status();
    set(*x);
  }
  return absl::OkStatus();
}

absl::Status Train(Context& ctx) {
  v1::StartTrainingRequest request;
  v1::TrainConfig* c = request.mutable_config();
  c->set_base_model(AbsolutePath(ctx.args.GetOr("model", "")));
  c->set_instance_dir(AbsolutePath(ctx.args.GetOr("images", "")));
  c->set_class_dir(AbsolutePath(ctx.args.GetOr("class-images", "")));
  c->set_instance_prompt(ctx.args.GetOr("instance-prompt", ""));
  c->set_class_prompt(ctx.args.GetOr("class-prompt", ""));
  c->set_token(ctx.args.GetOr("token", ""));
  c->set_shot_scale(ctx.args.GetOr("scale", ""));
  c->set_lr_scheduler(ctx.args.GetOr("lr-scheduler", ""));
  c->set_device(ctx.args.GetOr("device", ""));
  if (ctx.args.Has("no-prior")) c->set_with_prior_preservation(false);
  for (const std::string& t : ctx.args.GetAll("target")) c->add_target_modules(t);
  absl::Status status = IntFlag(ctx.args, "resolution", [&](int32_t v) { c->set_resolution(v); });
  if (status.ok()) status = IntFlag(ctx.args, "rank", [&](int32_t v) { c->set_rank(v); });
  if (status.ok()) status = IntFlag(ctx.args, "steps", [&](int32_t v) { c->set_max_train_steps(v); });
  if (status.ok()) status = IntFlag(ctx.args, "batch-size", [&](int32_t v) { c->set_train_batch_size(v); });
  if (status.ok()) {
    status = IntFlag(ctx.args, "gradient-accumulation", [&](int32_t v) { c->set_gradient_accumulation_steps(v); });
  }
  if (status.ok()) status = IntFlag(ctx.args, "warmup", [&](int32_t v) { c->set_lr_warmup_steps(v); });
  if (status.ok()) status = IntFlag(ctx.args, "checkpoint-every", [&](int32_t v) { c->set_checkpointing_steps(v); });
  if (status.ok()) status = DoubleFlag(ctx.args, "lr", [&](double v) { c->set_learning_rate(v); });
  if (status.ok()) status = DoubleFlag(ctx.args, "alpha", [&](double v) { c->set_alpha(v); });
  if (status.ok()) status = DoubleFlag(ctx.args, "prior-loss-weight", [&](double v) { c->set_prior_loss_weight(v); });
  if (status.ok() && ctx.args.Get("seed")) {
    absl::StatusOr<int64_t> seed = ParseInt64(*ctx.args.Get("seed"), "--seed");
    if (!seed.ok()) return seed.status();
    c->set_seed(static_cast<uint64_t>(*seed));
  }
  if (status.ok()) status = ApplyJobOptions(ctx.args, request.mutable_job());
  if (!status.ok()) return status;
  request.mutable_target()->set_experiment(ctx.args.GetOr("experiment", ""));
  request.mutable_target()->set_run_name(ctx.args.GetOr("run-name", ""));
  if (c->base_model().empty()) return UsageError("give --model (a diffusers folder)");
  if (c->instance_dir().empty()) return UsageError("give --images (a folder of training images)");

  v1::StartTrainingResponse response;
  status = ctx.client.Call(ctx.client.trainer(), &v1::TrainerService::Stub::StartTraining, request, &response);
  if (!status.ok()) return status;
  if (request.job().detach()) return PrintDetached(ctx, response, response.job_id());
  if (!ctx.global.json) ctx.out << "job " << response.job_id() << "\n" << std::flush;
  return FollowJob(ctx, response.job_id());
}

}  // namespace

std::vector<Command> TrainCommands() {
  std::vector<FlagSpec> flags = {
      {"model", "DIR", "base model: a diffusers folder", false, true},
      {"images", "DIR", "training images (with <stem>.txt captions)", false, true},
      {"class-images", "DIR", "class (prior-preservation) images"},
      {"scale", "SCALE", "close, medium or long (fills {scale})"},
      {"token", "WORD", "the identifier (default sks; fills {token})"},
      {"instance-prompt", "TEMPLATE", "default \"a {token} {scale} shot, {caption}\""},
      {"class-prompt", "TEMPLATE", "default \"a {scale} shot, {caption}\""},
      {"no-prior", "", "train without prior preservation"},
      {"resolution", "N", "square training size (default 512)"},
      {"rank", "N", "LoRA rank (default 4)"},
      {"alpha", "X", "LoRA alpha (default: the rank)"},
      {"target", "MODULE", "adapted modules (default to_q, to_k, to_v, to_out.0)", true},
      {"steps", "N", "optimizer steps (default 400)"},
      {"lr", "X", "learning rate (default 1e-4)"},
      {"lr-scheduler", "NAME", "constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial"},
      {"warmup", "N", "warmup steps"},
      {"batch-size", "N", "instance images per step (default 1)"},
      {"gradient-accumulation", "N", "micro-batches per step (default 1)"},
      {"prior-loss-weight", "X", "default 1.0"},
      {"checkpoint-every", "N", "a checkpoint every N steps (also at the end and on cancel)"},
      {"seed", "N", "seeds the LoRA init, data order, noise and timesteps"},
      {"device", "DEV", "cpu (default), cuda, cuda:1"},
      {"experiment", "NAME", "the run's experiment (default training)"},
      {"run-name", "NAME", "the run's name"},
  };
  for (const FlagSpec& f : JobFlags()) flags.push_back(f);
  return {{{"train", "",
            "Train a DreamBooth LoRA (prior preservation) and store it as an artifact of a new run.",
            "Runs as a job: follows it with a progress bar; Ctrl-C stops following and leaves it running "
            "(`dreamshot jobs cancel JOB` stops it; `dreamshot jobs retry JOB` resumes from its checkpoint).",
            {},
            flags},
           Train}};
}

}  // namespace dreamshot::cli

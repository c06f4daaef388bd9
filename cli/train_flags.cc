#include "cli/train_flags.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/command.h"

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

void StringFlag(const Args& args, const char* flag, const std::function<void(const std::string&)>& set) {
  if (auto v = args.Get(flag)) set(*v);
}

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (text.empty()) text = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
  }
  std::string text;
};

}  // namespace

std::vector<FlagSpec> TrainConfigFlags() {
  return {
      {"model", "DIR", "base model: a diffusers folder"},
      {"images", "DIR", "training images (with <stem>.txt captions)"},
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
      {"pool", "RUN", "train on a dataset pool (a dataset-building run) instead of --images"},
      {"split", "NAME", "the pool's split (default: every kept item)"},
      {"class-count", "N", "class images wanted; missing ones are generated with the base model and cached"},
      {"adapter-format", "FORMAT", "peft (default; diffusers) or kohya (sd-scripts, A1111, ComfyUI)"},
      {"validate-every", "N", "render validation images every N steps"},
      {"validation-prompt", "TEXT", "a validation prompt (default: the instance prompt)", true},
      {"validation-seed", "N", "a validation seed (default 0)", true},
      {"validation-steps", "N", "denoising steps of validation images (default 25)"},
      {"snr-gamma", "X", "min-SNR loss weighting (off by default; 5 is usual)"},
      {"noise-offset", "X", "offset noise (off by default)"},
      {"gradient-checkpointing", "", "recompute activations in backward: less memory, more time"},
      {"train-text-encoder", "", "a LoRA on the text encoder too"},
      {"random-crop", "", "seeded random crops instead of centre crops"},
      {"random-flip", "", "seeded horizontal flips"},
      {"no-cache", "", "do not cache latents and text states on disk"},
  };
}

const std::vector<ScalarTrainFlag>& ScalarTrainFlags() {
  static const auto* flags = new std::vector<ScalarTrainFlag>{
      {"scale", "shot_scale"},
      {"resolution", "resolution"},
      {"rank", "rank"},
      {"alpha", "alpha"},
      {"steps", "max_train_steps"},
      {"lr", "learning_rate"},
      {"lr-scheduler", "lr_scheduler"},
      {"warmup", "lr_warmup_steps"},
      {"batch-size", "train_batch_size"},
      {"gradient-accumulation", "gradient_accumulation_steps"},
      {"prior-loss-weight", "prior_loss_weight"},
      {"checkpoint-every", "checkpointing_steps"},
      {"seed", "seed"},
      {"class-count", "num_class_images"},
      {"snr-gamma", "snr_gamma"},
      {"noise-offset", "noise_offset"},
  };
  return *flags;
}

absl::Status ApplyTrainConfigFlags(const Args& args, v1::TrainConfig* c) {
  StringFlag(args, "model", [&](const std::string& v) { c->set_base_model(AbsolutePath(v)); });
  StringFlag(args, "images", [&](const std::string& v) { c->set_instance_dir(AbsolutePath(v)); });
  StringFlag(args, "class-images", [&](const std::string& v) { c->set_class_dir(AbsolutePath(v)); });
  StringFlag(args, "instance-prompt", [&](const std::string& v) { c->set_instance_prompt(v); });
  StringFlag(args, "class-prompt", [&](const std::string& v) { c->set_class_prompt(v); });
  StringFlag(args, "token", [&](const std::string& v) { c->set_token(v); });
  StringFlag(args, "scale", [&](const std::string& v) { c->set_shot_scale(v); });
  StringFlag(args, "lr-scheduler", [&](const std::string& v) { c->set_lr_scheduler(v); });
  StringFlag(args, "device", [&](const std::string& v) { c->set_device(v); });
  StringFlag(args, "split", [&](const std::string& v) { c->set_pool_split(v); });
  StringFlag(args, "adapter-format", [&](const std::string& v) { c->set_adapter_format(v); });
  if (args.Has("no-prior")) c->set_with_prior_preservation(false);
  if (args.Has("gradient-checkpointing")) c->set_gradient_checkpointing(true);
  if (args.Has("train-text-encoder")) c->set_train_text_encoder(true);
  if (args.Has("random-crop")) c->set_center_crop(false);
  if (args.Has("random-flip")) c->set_random_flip(true);
  if (args.Has("no-cache")) c->set_cache_latents(false);
  if (args.Has("validation-prompt")) {
    c->clear_validation_prompts();
    for (const std::string& p : args.GetAll("validation-prompt")) c->add_validation_prompts(p);
  }
  if (args.Has("validation-seed")) {
    c->clear_validation_seeds();
    for (const std::string& v : args.GetAll("validation-seed")) {
      absl::StatusOr<int64_t> seed = ParseInt64(v, "--validation-seed");
      if (!seed.ok()) return seed.status();
      c->add_validation_seeds(static_cast<uint64_t>(*seed));
    }
  }
  if (auto v = args.Get("pool")) {
    absl::StatusOr<int64_t> run = ParseInt64(*v, "--pool");
    if (!run.ok()) return run.status();
    c->set_pool_run_id(*run);
  }
  if (args.Has("target")) {
    c->clear_target_modules();
    for (const std::string& t : args.GetAll("target")) c->add_target_modules(t);
  }
  absl::Status status = IntFlag(args, "resolution", [&](int32_t v) { c->set_resolution(v); });
  if (status.ok()) status = IntFlag(args, "rank", [&](int32_t v) { c->set_rank(v); });
  if (status.ok()) status = IntFlag(args, "steps", [&](int32_t v) { c->set_max_train_steps(v); });
  if (status.ok()) status = IntFlag(args, "batch-size", [&](int32_t v) { c->set_train_batch_size(v); });
  if (status.ok()) {
    status = IntFlag(args, "gradient-accumulation", [&](int32_t v) { c->set_gradient_accumulation_steps(v); });
  }
  if (status.ok()) status = IntFlag(args, "warmup", [&](int32_t v) { c->set_lr_warmup_steps(v); });
  if (status.ok()) status = IntFlag(args, "checkpoint-every", [&](int32_t v) { c->set_checkpointing_steps(v); });
  if (status.ok()) status = DoubleFlag(args, "lr", [&](double v) { c->set_learning_rate(v); });
  if (status.ok()) status = DoubleFlag(args, "alpha", [&](double v) { c->set_alpha(v); });
  if (status.ok()) status = DoubleFlag(args, "prior-loss-weight", [&](double v) { c->set_prior_loss_weight(v); });
  if (status.ok()) status = IntFlag(args, "class-count", [&](int32_t v) { c->set_num_class_images(v); });
  if (status.ok()) status = IntFlag(args, "validate-every", [&](int32_t v) { c->set_validation_steps(v); });
  if (status.ok()) {
    status = IntFlag(args, "validation-steps", [&](int32_t v) { c->set_validation_inference_steps(v); });
  }
  if (status.ok()) status = DoubleFlag(args, "snr-gamma", [&](double v) { c->set_snr_gamma(v); });
  if (status.ok()) status = DoubleFlag(args, "noise-offset", [&](double v) { c->set_noise_offset(v); });
  if (status.ok() && args.Get("seed")) {
    absl::StatusOr<int64_t> seed = ParseInt64(*args.Get("seed"), "--seed");
    if (!seed.ok()) return seed.status();
    c->set_seed(static_cast<uint64_t>(*seed));
  }
  return status;
}

absl::Status ReadMessageFile(const std::string& path, google::protobuf::Message* message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::string type = message->GetDescriptor()->full_name();
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "{")) {
    const auto parsed = google::protobuf::util::JsonStringToMessage(text, message);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is not JSON of ", type, ": ", parsed.ToString()));
    }
    return absl::OkStatus();
  }
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, message)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a text proto of ", type, ": ", errors.text));
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::cli

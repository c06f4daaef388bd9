// dreamshot generate | pairs: text-to-image requests and A/B pairs through
// GeneratorService, with a progress bar on stderr and the PNGs optionally
// written to a folder.
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/progress_bar.h"

namespace dreamshot::cli {
namespace {

using Clock = std::chrono::steady_clock;

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UsageError(absl::StrCat("cannot read ", what, " ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A GenerationRequest from a .json file (proto JSON mapping) or a text proto.
absl::Status ReadConfig(const std::string& path, v1::GenerationRequest* out) {
  absl::StatusOr<std::string> text = ReadFile(path, "--config");
  if (!text.ok()) return text.status();
  if (absl::EndsWith(path, ".json")) {
    const auto status = google::protobuf::util::JsonStringToMessage(*text, out);
    if (!status.ok()) return UsageError(absl::StrCat(path, ": not a GenerationRequest: ", status.ToString()));
    return absl::OkStatus();
  }
  if (!google::protobuf::TextFormat::ParseFromString(*text, out)) {
    return UsageError(absl::StrCat(path, ": not a GenerationRequest text proto (see docs/generation.md)"));
  }
  return absl::OkStatus();
}

// "style.safetensors" or "style.safetensors:0.8".
absl::StatusOr<v1::LoraRef> ParseLora(const std::string& text) {
  v1::LoraRef lora;
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos && colon + 1 < text.size()) {
    absl::StatusOr<double> scale = ParseDouble(text.substr(colon + 1), "--lora scale");
    if (scale.ok()) {
      lora.set_path(text.substr(0, colon));
      lora.set_scale(*scale);
      return lora;
    }
  }
  if (text.empty()) return UsageError("--lora needs a file (PATH or PATH:SCALE)");
  lora.set_path(text);
  return lora;
}

absl::Status AddLoras(const std::vector<std::string>& texts, v1::ModelSpec* spec) {
  for (const std::string& text : texts) {
    absl::StatusOr<v1::LoraRef> lora = ParseLora(text);
    if (!lora.ok()) return lora.status();
    lora->set_path(AbsolutePath(lora->path()));
    *spec->add_loras() = *lora;
  }
  return absl::OkStatus();
}

absl::Status ApplyModelFlags(const Args& args, v1::ModelSpec* spec) {
  if (auto model = args.Get("model")) spec->set_base(AbsolutePath(*model));
  if (auto dir = args.Get("config-dir")) spec->set_config_dir(AbsolutePath(*dir));
  if (auto device = args.Get("device")) spec->set_device(*device);
  if (auto dtype = args.Get("dtype")) spec->set_dtype(*dtype);
  return absl::OkStatus();
}

absl::Status ApplyInt(const Args& args, const char* flag, void (v1::GenerationRequest::*set)(int32_t),
                      v1::GenerationRequest* out) {
  if (auto text = args.Get(flag)) {
    absl::StatusOr<int64_t> value = ParseInt64(*text, absl::StrCat("--", flag));
    if (!value.ok()) return value.status();
    (out->*set)(static_cast<int32_t>(*value));
  }
  return absl::OkStatus();
}

// --config first, then every settings flag on top of it.
absl::Status ApplySettings(const Args& args, v1::GenerationRequest* out) {
  if (auto config = args.Get("config")) {
    absl::Status status = ReadConfig(*config, out);
    if (!status.ok()) return status;
  }
  if (auto text = args.Get("negative")) out->set_negative_prompt(*text);
  if (auto text = args.Get("scheduler")) out->set_scheduler(*text);
  for (const auto& [flag, set] : std::vector<std::pair<const char*, void (v1::GenerationRequest::*)(int32_t)>>{
           {"width", &v1::GenerationRequest::set_width},
           {"height", &v1::GenerationRequest::set_height},
           {"steps", &v1::GenerationRequest::set_steps},
           {"clip-skip", &v1::GenerationRequest::set_clip_skip},
           {"num-images", &v1::GenerationRequest::set_num_images},
           {"batch-size", &v1::GenerationRequest::set_batch_size}}) {
    absl::Status status = ApplyInt(args, flag, set, out);
    if (!status.ok()) return status;
  }
  if (auto text = args.Get("guidance")) {
    absl::StatusOr<double> value = ParseDouble(*text, "--guidance");
    if (!value.ok()) return value.status();
    out->set_guidance_scale(*value);
  }
  if (auto text = args.Get("eta")) {
    absl::StatusOr<double> value = ParseDouble(*text, "--eta");
    if (!value.ok()) return value.status();
    out->set_ddim_eta(*value);
  }
  const std::vector<std::string> seeds = args.GetAll("seed");
  if (!seeds.empty()) out->clear_seeds();
  for (const std::string& text : seeds) {
    absl::StatusOr<int64_t> seed = ParseInt64(text, "--seed");
    if (!seed.ok()) return seed.status();
    if (*seed < 0) return UsageError(absl::StrCat("--seed must be ≥ 0, got ", *seed));
    out->add_seeds(static_cast<uint64_t>(*seed));
  }
  return absl::OkStatus();
}

absl::Status ApplyTarget(const Args& args, v1::RunTarget* target) {
  if (auto run = args.Get("run")) {
    absl::StatusOr<int64_t> id = ParseRunId(*run);
    if (!id.ok()) return id.status();
    target->set_run_id(*id);
  }
  if (auto experiment = args.Get("experiment")) target->set_experiment(*experiment);
  if (auto name = args.Get("run-name")) target->set_run_name(*name);
  return absl::OkStatus();
}

absl::Status WritePng(const std::string& dir, const v1::GeneratedImage& image, std::string* written) {
  const std::string& path = image.artifact().path();
  const std::string name = path.substr(path.find_last_of('/') + 1);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  *written = (std::filesystem::path(dir) / name).string();
  std::ofstream out(*written, std::ios::binary);
  out << image.png();
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", *written));
  return absl::OkStatus();
}

std::string DescribeImage(const v1::GeneratedImage& image) {
  return absl::StrCat("seed ", image.seed(), "  artifact ", image.artifact().id(), "  ", image.artifact().path());
}

void ClearPng(v1::GenerateResponse* m) {
  if (m->has_image()) m->mutable_image()->clear_png();
}
void ClearPng(v1::GeneratePairsResponse* m) {
  if (!m->has_pair()) return;
  m->mutable_pair()->mutable_image_a()->clear_png();
  m->mutable_pair()->mutable_image_b()->clear_png();
}

// Reads a generation stream to its end: progress to the bar, each result to
// `on_result`; Ctrl-C cancels the call (exit 130).
template <typename Response, typename Call, typename OnResult>
absl::Status Stream(Context& ctx, Call call, OnResult on_result, int64_t* run_id) {
  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);
  std::optional<CancelOnInterrupt> interrupt(&context);
  auto reader = call(&context);
  ProgressBar bar(std::cerr, ::isatty(STDERR_FILENO) != 0);
  Response message;
  absl::Status status;
  const bool detach = ctx.args.Has("detach");
  while (status.ok() && reader->Read(&message)) {
    if (detach && message.job_id() > 0) {
      status = PrintDetached(ctx, message, message.job_id());
      context.TryCancel();
      reader->Finish();
      return status;
    }
    if (message.run_id() != 0 && *run_id == 0) {
      *run_id = message.run_id();
      if (!ctx.global.json) {
        bar.Clear();
        ctx.out << "run " << *run_id << "\n" << std::flush;
      }
    }
    if (ctx.global.json) {
      Response shown = message;
      ClearPng(&shown);  // the bytes go to --out, not into the JSON lines
      status = PrintJson(shown, ctx.out);
      if (status.ok()) status = on_result(message, /*print=*/false);
    } else if (message.has_progress()) {
      const v1::Progress& p = message.progress();
      bar.Update(p.step(), p.total(), p.message(), p.eta_s(), p.queue_position());
    } else {
      bar.Clear();
      status = on_result(message, /*print=*/true);
    }
    ctx.out.flush();
  }
  if (!status.ok()) context.TryCancel();
  const grpc::Status finish = reader->Finish();
  bar.Clear();
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  if (interrupted) return InterruptedError();
  if (!status.ok()) return status;
  return ctx.client.Check(finish);
}

absl::Status Generate(Context& ctx) {
  v1::GenerateRequest request;
  v1::GenerationRequest* g = request.mutable_generation();
  absl::Status status = ApplySettings(ctx.args, g);
  if (status.ok()) status = ApplyModelFlags(ctx.args, g->mutable_model());
  if (status.ok()) status = AddLoras(ctx.args.GetAll("lora"), g->mutable_model());
  if (status.ok()) status = ApplyTarget(ctx.args, request.mutable_target());
  if (status.ok()) status = ApplyJobOptions(ctx.args, request.mutable_job());
  if (!status.ok()) return status;
  if (!ctx.args.Positional(0).empty()) g->set_prompt(ctx.args.Positional(0));
  if (g->prompt().empty()) return UsageError("give a PROMPT (or a prompt in --config)");
  if (g->model().base().empty()) return UsageError("give --model (a diffusers folder or checkpoint) or set it in --config");
  const std::string out_dir = ctx.args.GetOr("out", "");
  request.set_return_png(!out_dir.empty());

  const Clock::time_point start = Clock::now();
  int64_t run_id = 0, images = 0;
  status = Stream<v1::GenerateResponse>(
      ctx, [&](grpc::ClientContext* c) { return ctx.client.generator().Generate(c, request); },
      [&](const v1::GenerateResponse& m, bool print) -> absl::Status {
        if (!m.has_image()) return absl::OkStatus();
        ++images;
        std::string written;
        if (!out_dir.empty()) {
          absl::Status s = WritePng(out_dir, m.image(), &written);
          if (!s.ok()) return s;
        }
        if (print) {
          ctx.out << "image " << m.image().index() << "  " << DescribeImage(m.image())
                  << (written.empty() ? "" : "  -> " + written) << "\n";
        }
        return absl::OkStatus();
      },
      &run_id);
  if (!status.ok()) return status;
  if (!ctx.global.json && !request.job().detach()) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ctx.out << "run " << run_id << ": " << images << " image(s) in " << absl::StrFormat("%.1f", seconds) << "s\n";
  }
  return absl::OkStatus();
}

// "Close Shot, ..." → "close": the thesis' prompts name their shot first.
std::string ShotTypeOf(const std::string& prompt) {
  const std::string lower = absl::AsciiStrToLower(prompt);
  for (const char* type : {"close", "medium", "long"}) {
    if (absl::StartsWith(lower, absl::StrCat(type, " shot")) || absl::StartsWith(lower, absl::StrCat(type, "-shot"))) {
      return type;
    }
  }
  return "";
}

// --prompt TEXT (repeated) and --prompts FILE: one prompt per line, or
// "SHOT_TYPE<TAB>PROMPT"; blank lines and lines starting with # skipped.
absl::Status AddPrompts(const Args& args, v1::GeneratePairsRequest* request) {
  for (const std::string& text : args.GetAll("prompt")) {
    auto* p = request->add_prompts();
    p->set_prompt(text);
    p->set_shot_type(ShotTypeOf(text));
  }
  if (auto file = args.Get("prompts")) {
    absl::StatusOr<std::string> text = ReadFile(*file, "--prompts");
    if (!text.ok()) return text.status();
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line[0] == '#') continue;
      auto* p = request->add_prompts();
      const size_t tab = line.find('\t');
      if (tab != absl::string_view::npos) {
        p->set_shot_type(std::string(absl::StripAsciiWhitespace(line.substr(0, tab))));
        p->set_prompt(std::string(absl::StripAsciiWhitespace(line.substr(tab + 1))));
      } else {
        p->set_prompt(std::string(line));
        p->set_shot_type(ShotTypeOf(p->prompt()));
      }
    }
  }
  if (request->prompts_size() == 0) return UsageError("give --prompt TEXT or --prompts FILE");
  return absl::OkStatus();
}

absl::Status Pairs(Context& ctx) {
  v1::GeneratePairsRequest request;
  absl::Status status = ApplySettings(ctx.args, request.mutable_generation());
  if (!status.ok()) return status;
  if (!request.generation().prompt().empty() || request.generation().has_model()) {
    return UsageError("for pairs, --config holds the shared settings only: no model or prompt");
  }
  v1::ModelSpec* a = request.mutable_a()->mutable_model();
  status = ApplyModelFlags(ctx.args, a);
  if (!status.ok()) return status;
  if (a->base().empty()) return UsageError("give --model (the base model of both sides)");
  *request.mutable_b()->mutable_model() = *a;
  if (auto b_model = ctx.args.Get("b-model")) request.mutable_b()->mutable_model()->set_base(AbsolutePath(*b_model));
  status = AddLoras(ctx.args.GetAll("a-lora"), a);
  if (status.ok()) status = AddLoras(ctx.args.GetAll("lora"), request.mutable_b()->mutable_model());
  if (status.ok()) status = AddPrompts(ctx.args, &request);
  if (status.ok()) status = ApplyTarget(ctx.args, request.mutable_target());
  if (status.ok()) status = ApplyJobOptions(ctx.args, request.mutable_job());
  if (!status.ok()) return status;
  request.mutable_a()->set_label(ctx.args.GetOr("a-label", "baseline"));
  request.mutable_b()->set_label(ctx.args.GetOr("b-label", "finetuned"));
  const std::string out_dir = ctx.args.GetOr("out", "");
  request.set_return_png(!out_dir.empty());

  int64_t run_id = 0, pairs = 0;
  status = Stream<v1::GeneratePairsResponse>(
      ctx, [&](grpc::ClientContext* c) { return ctx.client.generator().GeneratePairs(c, request); },
      [&](const v1::GeneratePairsResponse& m, bool print) -> absl::Status {
        if (!m.has_pair()) return absl::OkStatus();
        ++pairs;
        const v1::ImagePair& pair = m.pair();
        std::string written_a, written_b;
        if (!out_dir.empty()) {
          absl::Status s = WritePng(out_dir, pair.image_a(), &written_a);
          if (s.ok()) s = WritePng(out_dir, pair.image_b(), &written_b);
          if (!s.ok()) return s;
        }
        if (print) {
          ctx.out << "pair " << pair.id() << "  seed " << pair.seed()
                  << (pair.shot_type().empty() ? "" : "  " + pair.shot_type()) << "  \"" << pair.prompt() << "\"\n"
                  << "  " << pair.label_a() << ": " << DescribeImage(pair.image_a()) << "\n"
                  << "  " << pair.label_b() << ": " << DescribeImage(pair.image_b()) << "\n";
        }
        return absl::OkStatus();
      },
      &run_id);
  if (!status.ok()) return status;
  if (!ctx.global.json && !request.job().detach()) ctx.out << "run " << run_id << ": " << pairs << " pair(s)\n";
  return absl::OkStatus();
}

std::vector<FlagSpec> SettingsFlags() {
  return {
      {"config", "FILE", "a GenerationRequest (.json, or text proto); flags override it"},
      {"negative", "TEXT", "negative prompt"},
      {"width", "N", "image width, a multiple of 8 (default 512)"},
      {"height", "N", "image height, a multiple of 8 (default 512)"},
      {"steps", "N", "denoising steps (default 25)"},
      {"guidance", "G", "classifier-free guidance scale (default 7.5; ≤ 1 turns it off)"},
      {"scheduler", "NAME", "ddim, pndm, ddpm, euler, euler_a, dpmpp_2m, dpmpp_2m_karras (default: the model's)"},
      {"eta", "X", "DDIM eta (default 0)"},
      {"clip-skip", "N", "text states from N layers before the last (A1111's 'Clip skip: 2' is 1)"},
      {"seed", "N", "one image per seed (default: server-drawn seeds, reported)", true},
      {"num-images", "N", "images when no --seed is given (default 1)"},
      {"batch-size", "N", "images per network call (default 1)"},
      {"device", "DEV", "cpu (default), cuda, cuda:1"},
      {"dtype", "T", "float32 (default), float16, bfloat16"},
      {"config-dir", "DIR", "for a single .safetensors/.ckpt: a diffusers folder with the configs"},
      {"experiment", "NAME", "store the run in this experiment (default: generations)"},
      {"run-name", "NAME", "name of the new run"},
      {"run", "RUN", "add the images to this existing run instead"},
      {"out", "DIR", "also write the PNGs into DIR"},
      JobFlags()[0],
      JobFlags()[1],
  };
}

}  // namespace

std::vector<Command> GenerateCommands() {
  std::vector<FlagSpec> generate_flags = SettingsFlags();
  generate_flags.insert(generate_flags.begin(),
                        {{"model", "PATH", "base model: a diffusers folder or a .safetensors/.ckpt checkpoint"},
                         {"lora", "PATH[:SCALE]", "apply a LoRA file (scale default 1)", true}});
  std::vector<FlagSpec> pair_flags = SettingsFlags();
  pair_flags.insert(pair_flags.begin(),
                    {{"model", "PATH", "base model of both sides", false, true},
                     {"b-model", "PATH", "a different base model for side b"},
                     {"lora", "PATH[:SCALE]", "LoRA of side b (the fine-tuned side)", true},
                     {"a-lora", "PATH[:SCALE]", "LoRA of side a", true},
                     {"a-label", "NAME", "label of side a (default baseline)"},
                     {"b-label", "NAME", "label of side b (default finetuned)"},
                     {"prompt", "TEXT", "a prompt; 'Close Shot, ...' sets its shot type", true},
                     {"prompts", "FILE", "prompts, one per line or SHOT_TYPE<TAB>PROMPT"}});
  return {
      {{"generate", "", "Generate images from a prompt; store them as artifacts of a run.",
        "Streams progress to stderr. Each image is a PNG artifact carrying its generation parameters (A1111 "
        "'parameters' text); the same seed and settings give the same bytes. Ctrl-C cancels (exit 130).",
        {{"PROMPT", false}},
        generate_flags},
       Generate},
      {{"pairs", "", "Generate A/B pairs: each prompt and seed through side a and side b.",
        "Side a is --model (+ --a-lora), side b the same base (or --b-model) + --lora. Pairs are stored with "
        "their prompt, shot type, seed and labels for evaluation and the human survey.",
        {},
        pair_flags},
       Pairs},
  };
}

}  // namespace dreamshot::cli

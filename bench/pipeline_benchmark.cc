// End-to-end text-to-image with the full-size SD 1.5 networks (random
// weights: timing does not depend on values), float32 on the CPU: 256²,
// 20 steps with the model's own scheduler (PNDM: 21 UNet evaluations), CFG
// 7.5, one image. Counters split the wall time into text encoder, UNet and
// VAE calls; overhead = the rest (scheduler steps, guidance arithmetic,
// copies), target < 2 % of the total. One run after an untimed warm-up run.
//   bazel run -c opt //bench:pipeline_benchmark
// Needs the CLIP vocabulary of ../shared/reference/tiny_sd/tokenizer (or
// $DREAMSHOT_REFERENCE_DIR).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <string>

#include "absl/strings/strip.h"

#include "bench/torch_bench_main.h"
#include "core/status_macros.h"
#include "core/testdata_paths.h"
#include "diffusion/pipeline/generation_record.h"
#include "diffusion/pipeline/text_to_image.h"
#include "trainer/class_images.h"

namespace dreamshot::diffusion {
namespace {

constexpr char kSd15SchedulerConfig[] = R"({"_class_name": "PNDMScheduler", "beta_start": 0.00085,
  "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": false,
  "skip_prk_steps": true, "steps_offset": 1, "clip_sample": false})";

absl::StatusOr<StableDiffusionModels> FullSizeRandomModels() {
  StableDiffusionModels m;
  ASSIGN_OR_RETURN(m.tokenizer, models::clip::ClipTokenizer::FromFolder(core::ReferencePath("tiny_sd/tokenizer")));
  ASSIGN_OR_RETURN(m.scheduler_config, core::JsonConfig::FromString(kSd15SchedulerConfig, "SD 1.5 scheduler"));
  ASSIGN_OR_RETURN(m.text_encoder, models::clip::ClipTextModel::Create({}, m.spec));
  ASSIGN_OR_RETURN(m.unet, models::unet::UNet2DConditionModel::Create({}, m.spec));
  ASSIGN_OR_RETURN(m.vae, models::vae::AutoencoderKL::Create({}, m.spec));
  return m;
}

void BM_TextToImage256(benchmark::State& state) {
  auto models = FullSizeRandomModels();
  if (!models.ok()) {
    state.SkipWithError(std::string(models.status().message()).c_str());
    return;
  }
  TextToImageRequest request;
  request.prompt = "Medium Shot, a detective in a rain-soaked alley, film noir";
  request.negative_prompt = "blurry, low quality";
  request.width = request.height = 256;
  request.steps = 20;
  request.seeds = {1};
  (void)GenerateImages(*models, request);  // oneDNN kernels generated, allocator settled
  for (auto _ : state) {
    auto result = GenerateImages(*models, request);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    const TextToImageTimings& t = result->timings;
    state.counters["total_s"] = t.total_s;
    state.counters["text_s"] = t.text_encoder_s;
    state.counters["unet_s"] = t.unet_s;
    state.counters["vae_s"] = t.vae_s;
    state.counters["overhead_s"] = t.overhead_s();
    state.counters["overhead_pct"] = 100 * t.overhead_s() / t.total_s;
  }
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
}
BENCHMARK(BM_TextToImage256)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view view = line;
    if (absl::ConsumePrefix(&view, "model name")) {
      view = absl::StripLeadingAsciiWhitespace(view);
      absl::ConsumePrefix(&view, ":");
      return std::string(absl::StripAsciiWhitespace(view));
    }
  }
  return "unknown CPU";
}

void BM_ClassImages(benchmark::State& state) {
  const int64_t resolution = state.range(0), batch = state.range(1);
  state.SetLabel(CpuModel());
  auto models = FullSizeRandomModels();
  if (!models.ok()) {
    state.SkipWithError(std::string(models.status().message()).c_str());
    return;
  }
  trainer::ClassImageSettings settings;
  settings.width = settings.height = resolution;
  settings.batch_size = batch;
  std::vector<uint64_t> seeds;
  for (int64_t i = 0; i < batch; ++i) seeds.push_back(trainer::ClassImageSeed(0, i));
  const std::string prompt = "a medium shot, two people talking in a kitchen";
  trainer::ClassImageSettings warm_up = settings;
  warm_up.steps = 2;  // oneDNN kernels generated and the allocator settled at this size
  (void)GenerateImages(*models, trainer::ClassImageGenerationRequest(warm_up, prompt, seeds));
  const TextToImageRequest request = trainer::ClassImageGenerationRequest(settings, prompt, seeds);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto result = GenerateImages(*models, request);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    for (int64_t i = 0; i < batch; ++i) {
      GenerationRecord record;
      record.prompt = request.prompt;
      record.seed = request.seeds[i];
      auto png = EncodeGeneratedPng(result->images[i], record);
      if (!png.ok()) {
        state.SkipWithError(std::string(png.status().message()).c_str());
        return;
      }
      benchmark::DoNotOptimize(png->data());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const TextToImageTimings& t = result->timings;
    state.counters["images_per_s"] = batch / seconds;
    state.counters["s_per_image"] = seconds / batch;
    state.counters["text_s"] = t.text_encoder_s;
    state.counters["unet_s"] = t.unet_s;
    state.counters["vae_s"] = t.vae_s;
    state.counters["png_s"] = seconds - t.total_s;
  }
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
}
BENCHMARK(BM_ClassImages)
    ->ArgNames({"res", "batch"})
    ->Args({256, 1})
    ->Args({512, 1})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace dreamshot::diffusion

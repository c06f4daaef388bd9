// Loading a full-size SD 1.5 single-file checkpoint (original-LDM key names,
// float16, ~2.1 GB: UNet + VAE + CLIP text encoder) into float32 modules,
// from a warm page cache: ModelSource::Open, LoadComponentAsStored for the
// three components (renamed zero-copy fp16 views of the mapped file) and
// LoadWeights into modules built from their configs (fp16 → fp32 while
// copying). Module construction is timed separately: it
// fills every parameter with LibTorch's random initialisers first.
//
// Setup writes the checkpoint (random weights) and a config folder to
// $TEST_TMPDIR or /tmp and deletes them at exit:
//   bazel run -c opt //bench:load_benchmark -- --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "bench/torch_bench_main.h"
#include "core/device.h"
#include "core/ldm_test_names.h"
#include "core/model_source.h"
#include "core/safetensors.h"
#include "models/clip/text_model.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;

// The published SD 1.5 configs (runwayml/stable-diffusion-v1-5), trimmed to
// the keys that shape the networks.
constexpr char kUNetConfig[] = R"({"_class_name": "UNet2DConditionModel", "attention_head_dim": 8,
  "block_out_channels": [320, 640, 1280, 1280], "cross_attention_dim": 768,
  "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
  "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  "in_channels": 4, "out_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "norm_eps": 1e-05,
  "flip_sin_to_cos": true, "freq_shift": 0, "downsample_padding": 1, "sample_size": 64})";
constexpr char kVaeConfig[] = R"({"_class_name": "AutoencoderKL", "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  "in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
  "sample_size": 512})";

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

template <typename Module>
std::map<std::string, at::Tensor> HalfStateDict(Module& module) {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : module.named_parameters()) out[item.key()] = item.value().detach().to(torch::kHalf);
  for (const auto& item : module.named_buffers()) out[item.key()] = item.value().detach().clone();
  return out;
}

void Add(std::map<std::string, at::Tensor>& to, const std::map<std::string, at::Tensor>& from) {
  to.insert(from.begin(), from.end());
}

// Writes checkpoint + config folder once per process.
struct Checkpoint {
  fs::path root = fs::path(TempDir()) / ("dreamshot_load_bench_" + std::to_string(::getpid()));
  fs::path file = root / "sd15_fp16.safetensors";
  fs::path configs = root / "configs";
  int64_t bytes = 0;

  Checkpoint() {
    WriteText(configs / "unet" / "config.json", kUNetConfig);
    WriteText(configs / "vae" / "config.json", kVaeConfig);
    WriteText(configs / "model_index.json", R"({"_class_name": "StableDiffusionPipeline"})");
    std::map<std::string, at::Tensor> ldm;
    {
      auto unet = models::unet::UNet2DConditionModel::Create({}, {}).value();
      Add(ldm, core::testing::ToLdmTensors("unet", HalfStateDict(unet->module()), 4, 2));
    }
    {
      auto vae = models::vae::AutoencoderKL::Create({}, {}).value();
      Add(ldm, core::testing::ToLdmTensors("vae", HalfStateDict(vae->module()), 4, 2));
    }
    {
      auto text = models::clip::ClipTextModel::Create({}, {}).value();
      Add(ldm, core::testing::ToLdmTensors("text_encoder", HalfStateDict(text->module()), 0, 0));
    }
    const absl::Status written = core::WriteSafetensors(
        file.string(), std::vector<std::pair<std::string, at::Tensor>>(ldm.begin(), ldm.end()));
    if (!written.ok()) {
      std::fprintf(stderr, "cannot write %s: %s\n", file.c_str(), std::string(written.message()).c_str());
      std::exit(1);
    }
    bytes = static_cast<int64_t>(fs::file_size(file));
  }
  ~Checkpoint() { fs::remove_all(root); }

  static Checkpoint& Get() {
    static Checkpoint checkpoint;
    return checkpoint;
  }
};

void WarmPageCache(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> chunk(1 << 20);
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
  }
}

struct Modules {
  std::unique_ptr<models::unet::UNet2DConditionModel> unet;
  std::unique_ptr<models::vae::AutoencoderKL> vae;
  std::unique_ptr<models::clip::ClipTextModel> text;
};

Modules Construct() {
  return {models::unet::UNet2DConditionModel::Create({}, {}).value(),
          models::vae::AutoencoderKL::Create({}, {}).value(), models::clip::ClipTextModel::Create({}, {}).value()};
}

void BM_ConstructModules(benchmark::State& state) {
  for (auto _ : state) {
    Modules m = Construct();
    benchmark::DoNotOptimize(m.unet.get());
  }
}
BENCHMARK(BM_ConstructModules)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

void BM_LoadSingleFileFp16IntoFp32(benchmark::State& state) {
  Checkpoint& checkpoint = Checkpoint::Get();
  WarmPageCache(checkpoint.file);
  Modules m = Construct();
  const core::DeviceSpec fp32{};
  for (auto _ : state) {
    auto source = core::ModelSource::Open(checkpoint.file.string(), checkpoint.configs.string());
    if (!source.ok()) return state.SkipWithError(std::string(source.status().message()).c_str());
    absl::Status status = absl::OkStatus();
    {
      auto unet = source->LoadComponentAsStored("unet", fp32.device);
      status.Update(unet.ok() ? m.unet->LoadWeights(*unet, checkpoint.file.string()) : unet.status());
    }
    {
      auto vae = source->LoadComponentAsStored("vae", fp32.device);
      status.Update(vae.ok() ? m.vae->LoadWeights(*vae, checkpoint.file.string()) : vae.status());
    }
    {
      auto text = source->LoadComponentAsStored("text_encoder", fp32.device);
      status.Update(text.ok() ? m.text->LoadWeights(*text, checkpoint.file.string()) : text.status());
    }
    if (!status.ok()) return state.SkipWithError(std::string(status.message()).c_str());
  }
  // The modules now hold the file's values: spot-check the first and last
  // UNet convolutions and a text-encoder weight against the file.
  auto file = core::SafetensorsFile::Open(checkpoint.file.string());
  const std::pair<const char*, std::pair<torch::nn::Module*, const char*>> probes[] = {
      {"model.diffusion_model.input_blocks.0.0.weight", {&m.unet->module(), "conv_in.weight"}},
      {"model.diffusion_model.out.2.weight", {&m.unet->module(), "conv_out.weight"}},
      {"first_stage_model.decoder.conv_out.weight", {&m.vae->module(), "decoder.conv_out.weight"}},
      {"cond_stage_model.transformer.text_model.final_layer_norm.weight",
       {&m.text->module(), "text_model.final_layer_norm.weight"}},
  };
  for (const auto& [ldm_name, target] : probes) {
    auto stored = file->Load(ldm_name, torch::kFloat);
    const torch::Tensor* param = target.first->named_parameters().find(target.second);
    if (!stored.ok() || param == nullptr || !torch::equal(*stored, *param)) {
      return state.SkipWithError((std::string("loaded module differs from the file at ") + ldm_name).c_str());
    }
  }
  state.counters["file_GB"] = checkpoint.bytes / 1e9;
  state.counters["peak_rss_MiB"] = bench::PeakRssMiB();
}
BENCHMARK(BM_LoadSingleFileFp16IntoFp32)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace dreamshot

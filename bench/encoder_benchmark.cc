// The evaluator's image encoders at full size (random weights: timing does
// not depend on values), fp32 on the CPU, batch 16, from 512² PNG files in
// memory to embeddings: PNG decode, Pillow-exact resize and crop,
// normalisation (evaluator/image_preprocess.h), then the network — CLIP
// ViT-B/32 and ViT-L/14 image features (vision tower + visual_projection)
// and DINO ViT-S/16's class token. Each round runs our encoder path and the
// stock one (transformers' formulation in eager LibTorch: ATen matmul +
// softmax attention, no in-place residuals) on the same batch, alternated
// so that load drifts over both alike; reported: images/s of each (median
// round), the median per-round speed-up, the preprocessing share, and the
// load average at the start and end. One untimed warm-up round per path.
//   bazel run -c opt //bench:encoder_benchmark -- --benchmark_filter=dino
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/torch_bench_main.h"
#include "core/device.h"
#include "core/png.h"
#include "evaluator/image8.h"
#include "evaluator/image_preprocess.h"
#include "models/clip/clip_model.h"
#include "models/vit/vit_model.h"

namespace dreamshot::bench {
namespace {

constexpr int kBatch = 16;
constexpr int kSide = 512;

// Smooth gradients with a little texture, so the PNGs compress like images.
std::vector<std::string> TestPngs() {
  std::vector<std::string> pngs;
  at::Generator gen = at::detail::createCPUGenerator(0);
  for (int i = 0; i < kBatch; ++i) {
    core::PngImage image;
    image.width = image.height = kSide;
    image.channels = 3;
    const at::Tensor noise = torch::randint(0, 16, {kSide * kSide * 3}, gen, torch::kUInt8);
    const uint8_t* n = noise.data_ptr<uint8_t>();
    image.pixels.resize(static_cast<size_t>(kSide * kSide * 3));
    for (int y = 0; y < kSide; ++y) {
      for (int x = 0; x < kSide; ++x) {
        const size_t p = (static_cast<size_t>(y) * kSide + x) * 3;
        image.pixels[p] = static_cast<uint8_t>((x / 2 + i * 7) % 240 + n[p]);
        image.pixels[p + 1] = static_cast<uint8_t>((y / 2 + i * 13) % 240 + n[p + 1]);
        image.pixels[p + 2] = static_cast<uint8_t>(((x + y) / 4) % 240 + n[p + 2]);
      }
    }
    pngs.push_back(*core::EncodePng(image));
  }
  return pngs;
}

// Weights drawn once: allocated-but-unset memory may hold denormals, which
// would time something else.
void RandomiseWeights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(1);
  for (at::Tensor p : module.parameters()) p.normal_(0.0, 0.02, gen);
}

struct Encoder {
  evaluator::PreprocessSpec spec;
  std::function<absl::StatusOr<at::Tensor>(const at::Tensor&)> embed;
  std::function<void(bool)> set_stock;
  std::shared_ptr<void> owner;  // keeps the model alive
};

absl::StatusOr<Encoder> MakeEncoder(int which) {
  const core::DeviceSpec spec;
  if (which == 2) {
    auto created = models::vit::ViTModel::Create(models::vit::ViTConfig::DinoVitS16(), spec);
    if (!created.ok()) return created.status();
    std::shared_ptr<models::vit::ViTModel> model = std::move(*created);
    RandomiseWeights(model->module());
    return Encoder{evaluator::DinoPreprocessing(),
                   [model](const at::Tensor& pixels) -> absl::StatusOr<at::Tensor> {
                     auto out = model->Forward(pixels);
                     if (!out.ok()) return out.status();
                     return out->cls;
                   },
                   [model](bool stock) { model->set_stock_path_for_comparison(stock); }, model};
  }
  const models::clip::ClipModelConfig config =
      which == 0 ? models::clip::ClipModelConfig::VitB32() : models::clip::ClipModelConfig::VitL14();
  auto created = models::clip::ClipModel::Create(config, spec);
  if (!created.ok()) return created.status();
  std::shared_ptr<models::clip::ClipModel> model = std::move(*created);
  RandomiseWeights(model->module());
  return Encoder{evaluator::ClipPreprocessing(),
                 [model](const at::Tensor& pixels) { return model->GetImageFeatures(pixels); },
                 [model](bool stock) { model->set_stock_path_for_comparison(stock); }, model};
}

struct RoundTimes {
  double total = 0, preprocess = 0;
};

absl::StatusOr<RoundTimes> RunBatch(const Encoder& encoder, const std::vector<std::string>& pngs) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::vector<evaluator::Image8> images;
  for (const std::string& png : pngs) {
    auto image = evaluator::DecodePngImage(png, "benchmark image");
    if (!image.ok()) return image.status();
    images.push_back(*std::move(image));
  }
  auto pixels = evaluator::PreprocessBatch(images, encoder.spec);
  if (!pixels.ok()) return pixels.status();
  const auto preprocessed = Clock::now();
  auto embeddings = encoder.embed(*pixels);
  if (!embeddings.ok()) return embeddings.status();
  benchmark::DoNotOptimize(embeddings->data_ptr());
  const auto end = Clock::now();
  return RoundTimes{std::chrono::duration<double>(end - start).count(),
                    std::chrono::duration<double>(preprocessed - start).count()};
}

void BM_ImageEncoder(benchmark::State& state) {
  const double load_at_start = LoadAverage();
  auto encoder = MakeEncoder(static_cast<int>(state.range(0)));
  if (!encoder.ok()) {
    state.SkipWithError(std::string(encoder.status().message()).c_str());
    return;
  }
  const std::vector<std::string> pngs = TestPngs();
  const bool kPaths[] = {false, true};  // ours, stock
  for (bool stock : kPaths) {  // warm-up: oneDNN kernels, allocator cache
    encoder->set_stock(stock);
    if (auto t = RunBatch(*encoder, pngs); !t.ok()) {
      state.SkipWithError(std::string(t.status().message()).c_str());
      return;
    }
  }
  std::vector<double> ours, stock, speedup, preprocess;
  for (auto _ : state) {
    RoundTimes round[2];
    for (bool path : kPaths) {
      encoder->set_stock(path);
      absl::StatusOr<RoundTimes> t = RunBatch(*encoder, pngs);
      if (!t.ok()) {
        state.SkipWithError(std::string(t.status().message()).c_str());
        return;
      }
      round[path] = *t;
    }
    ours.push_back(round[0].total);
    stock.push_back(round[1].total);
    speedup.push_back(round[1].total / round[0].total);
    preprocess.push_back(round[0].preprocess);
  }
  state.counters["ours_images_per_s"] = kBatch / Median(ours);
  state.counters["stock_images_per_s"] = kBatch / Median(stock);
  state.counters["speedup_vs_stock"] = Median(speedup);  // per-round stock / ours
  state.counters["preprocess_ms_per_image"] = 1e3 * Median(preprocess) / kBatch;
  state.counters["threads"] = torch::get_num_threads();
  state.counters["peak_rss_MiB"] = PeakRssMiB();
  state.counters["load_start"] = load_at_start;
  state.counters["load_end"] = LoadAverage();
}
// Rounds (iterations): each runs one batch of 16 through each path.
BENCHMARK(BM_ImageEncoder)->Name("clip_vit_b32")->Arg(0)->Iterations(5)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_ImageEncoder)->Name("clip_vit_l14")->Arg(1)->Iterations(3)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_ImageEncoder)->Name("dino_vit_s16")->Arg(2)->Iterations(5)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace dreamshot::bench

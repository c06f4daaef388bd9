// Forward pass of the full-size CLIP ViT-L/14 text tower (Stable Diffusion
// 1.x's text encoder; random weights: timing does not depend on values) at
// batch 2 — a prompt and its negative prompt, as classifier-free guidance runs it.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>

#include "core/device.h"
#include "models/clip/text_model.h"

namespace dreamshot::models::clip {
namespace {

void BM_ClipTextForward(benchmark::State& state) {
  const int64_t batch = state.range(0);
  core::DeviceSpec spec;
  auto model = ClipTextModel::Create(ClipTextConfig{}, spec);  // ViT-L/14 defaults
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  torch::manual_seed(0);
  torch::Tensor ids = torch::randint(0, 49407, {batch, 77}, torch::kLong);
  ids.index_put_({torch::indexing::Slice(), 76}, 49407);
  torch::NoGradGuard no_grad;  // inference, as generation runs it
  for (auto _ : state) {
    auto out = (*model)->Forward(ids);
    if (!out.ok()) state.SkipWithError(std::string(out.status().message()).c_str());
    benchmark::DoNotOptimize(out->last_hidden_state.data_ptr());
  }
  state.counters["threads"] = torch::get_num_threads();
}
BENCHMARK(BM_ClipTextForward)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace dreamshot::models::clip

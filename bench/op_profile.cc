// Where does inference time go? Runs one warm-up and then one profiled pass of
// the full-size SD 1.5 UNet (CFG step, batch 2) or VAE decode with random
// weights, and writes LibTorch's legacy-profiler trace (Chrome trace JSON).
// bench/op_profile_summary.py turns the trace into self time per operator:
//   bazel run -c opt //bench:op_profile -- unet 32 /tmp/unet32.json
//   python3 bench/op_profile_summary.py /tmp/unet32.json
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/cpu_init.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename Fn>
int ProfileTwice(const std::string& trace_path, Fn&& pass) {
  torch::NoGradGuard no_grad;
  auto start = Clock::now();
  pass();
  const double warm = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  {
    torch::autograd::profiler::RecordProfile profile(trace_path);
    pass();
  }
  const double profiled = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("threads=%d warm-up pass %.2f s, profiled pass %.2f s, trace %s\n", torch::get_num_threads(),
              warm, profiled, trace_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: op_profile unet|vae LATENT_EDGE TRACE_JSON\n");
    return 2;
  }
  dreamshot::core::InitCpu(argv);
  const std::string model = argv[1];
  const int64_t latent = std::atoll(argv[2]);
  torch::manual_seed(0);
  if (model == "unet") {
    auto unet = dreamshot::models::unet::UNet2DConditionModel::Create({}, {});
    if (!unet.ok()) return 1;
    const torch::Tensor sample = torch::randn({2, 4, latent, latent});
    const torch::Tensor context = torch::randn({2, 77, 768});
    const torch::Tensor t = torch::tensor(999, torch::kLong);
    return ProfileTwice(argv[3], [&] { (void)(*unet)->Forward(sample, t, context); });
  }
  if (model == "vae") {
    auto vae = dreamshot::models::vae::AutoencoderKL::Create({}, {});
    if (!vae.ok()) return 1;
    const torch::Tensor z = torch::randn({1, 4, latent, latent});
    return ProfileTwice(argv[3], [&] { (void)(*vae)->Decode(z); });
  }
  std::fprintf(stderr, "unknown model %s (unet or vae)\n", model.c_str());
  return 2;
}

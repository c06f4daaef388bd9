// Where does a training step's time go? One warm-up and then one profiled
// step of each path of bench/train_step_setup.h, each written as LibTorch's
// legacy-profiler trace (Chrome trace JSON); bench/op_profile_summary.py
// turns a trace into self time per operator:
//   bazel run -c opt //bench:train_step_profile -- 32 /tmp/train32
//   python3 bench/op_profile_summary.py /tmp/train32_ours.json
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/train_step_setup.h"
#include "core/cpu_init.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: train_step_profile LATENT_EDGE TRACE_PREFIX\n");
    return 2;
  }
  dreamshot::core::InitCpu(argv);
  using dreamshot::bench::TrainPath;
  auto setup = dreamshot::bench::TrainStepSetup::Create(std::atoll(argv[1]), /*gradient_checkpointing=*/false);
  if (!setup.ok()) {
    std::fprintf(stderr, "%s\n", std::string(setup.status().message()).c_str());
    return 1;
  }
  for (TrainPath path : dreamshot::bench::kTrainPaths) {
    if (!(*setup)->Step(path).ok()) return 1;  // warm-up
  }
  for (TrainPath path : dreamshot::bench::kTrainPaths) {
    const std::string trace = std::string(argv[2]) + "_" + dreamshot::bench::TrainPathName(path) + ".json";
    absl::StatusOr<dreamshot::bench::StepTimes> t;
    {
      torch::autograd::profiler::RecordProfile profile(trace);
      t = (*setup)->Step(path);
    }
    if (!t.ok()) return 1;
    std::printf("%s: forward %.2f s, backward %.2f s, optimizer %.3f s, cpu %.2f s, trace %s\n",
                dreamshot::bench::TrainPathName(path), t->forward, t->backward, t->optimizer, t->cpu,
                trace.c_str());
  }
  return 0;
}

// One DreamBooth-LoRA training step on the full-size Stable Diffusion 1.5
// UNet (bench/train_step_setup.h: fp32 CPU, batch 1 + 1, rank 4 on
// to_q/k/v/out.0) at 32×32 latents (256²) and 64×64 (512²), with and
// without gradient checkpointing. Forward (loss), backward (with clipping)
// and the AdamW step are timed apart, for each path of train_step_setup.h
// (ours; stock = PyTorch eager's attention and allocator; the frozen-base
// floor), alternated within each round (ours, stock, floor, ours, ...) so
// that load drifts over all alike: medians of each path's times and of the
// per-round ratios, each path's process CPU time (and its system part) and
// minor page faults, and the load average at the start and end.
//
// Peak RSS per path comes from the untimed warm-up round: before each
// path's warm-up step our allocator's cache and malloc's free heap are
// released and the kernel's RSS high-water mark reset
// (/proc/self/clear_refs), so each path's figure is its own (`rss_reset` = 0
// if the kernel refused: then each figure also covers the paths before it).
// The warm-up also fills the oneDNN caches.
//   bazel run -c opt //bench:train_step_benchmark -- --benchmark_filter='latent:32/'
// The 512² stock path needs ~16 GB without gradient checkpointing.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/torch_bench_main.h"
#include "bench/train_step_setup.h"
#include "core/caching_cpu_allocator.h"

namespace dreamshot::bench {
namespace {

// VmHWM of /proc/self/status, MiB (getrusage's maxrss is the same mark).
double HighWaterRssMiB() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;  // kB
  }
  return PeakRssMiB();
}

// Linux ≥ 4.0: "5" resets the high-water mark to the current RSS.
bool ResetHighWaterRss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool wrote = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && wrote;
}

void BM_DreamBoothLoraStep(benchmark::State& state) {
  const double load_at_start = LoadAverage();
  auto setup = TrainStepSetup::Create(state.range(0), state.range(1) != 0);
  if (!setup.ok()) {
    state.SkipWithError(std::string(setup.status().message()).c_str());
    return;
  }
  bool rss_reset = true;
  for (TrainPath path : kTrainPaths) {
    core::ReleaseCachedCpuMemory();
    ::malloc_trim(0);
    core::ResetPeakCpuAllocated();
    rss_reset = ResetHighWaterRss() && rss_reset;
    const absl::StatusOr<StepTimes> warm = (*setup)->Step(path);
    if (!warm.ok()) {
      state.SkipWithError(std::string(warm.status().message()).c_str());
      return;
    }
    const std::string name = TrainPathName(path);
    state.counters[name + "_peak_rss_MiB"] = HighWaterRssMiB();
    state.counters[name + "_peak_live_MiB"] = core::GetCpuCacheStats().peak_allocated_bytes / double(1 << 20);
  }
  std::map<TrainPath, std::vector<StepTimes>> times;
  for (auto _ : state) {
    for (TrainPath path : kTrainPaths) {
      absl::StatusOr<StepTimes> t = (*setup)->Step(path);
      if (!t.ok()) {
        state.SkipWithError(std::string(t.status().message()).c_str());
        return;
      }
      times[path].push_back(*t);
    }
  }
  std::map<TrainPath, double> step;
  for (TrainPath path : kTrainPaths) {
    std::vector<double> f, b, o, total, c, sys, faults;
    for (const StepTimes& t : times[path]) {
      f.push_back(t.forward), b.push_back(t.backward), o.push_back(t.optimizer);
      total.push_back(t.total()), c.push_back(t.cpu), sys.push_back(t.system), faults.push_back(t.page_faults);
    }
    const std::string name = TrainPathName(path);
    step[path] = Median(total);
    state.counters[name + "_step_s"] = step[path];
    state.counters[name + "_forward_s"] = Median(f);
    state.counters[name + "_backward_s"] = Median(b);
    state.counters[name + "_cpu_s"] = Median(c);
    state.counters[name + "_sys_s"] = Median(sys);
    state.counters[name + "_page_faults"] = Median(faults);
    if (path != TrainPath::kFloor) state.counters[name + "_optimizer_s"] = Median(o);
  }
  // Ratios within each round (its steps ran back to back, under about the
  // same load), then their median: steadier than a ratio of medians when
  // the load drifts.
  std::vector<double> over_stock, over_floor;
  for (size_t i = 0; i < times[TrainPath::kOurs].size(); ++i) {
    const double ours = times[TrainPath::kOurs][i].total();
    over_stock.push_back(ours / times[TrainPath::kStock][i].total());
    over_floor.push_back(ours / times[TrainPath::kFloor][i].total());
  }
  state.counters["ours_over_stock"] = Median(over_stock);
  state.counters["ours_over_floor"] = Median(over_floor);
  state.counters["ours_over_stock_of_medians"] = step[TrainPath::kOurs] / step[TrainPath::kStock];
  state.counters["rss_reset"] = rss_reset;
  state.counters["threads"] = torch::get_num_threads();
  state.counters["load_start"] = load_at_start;
  state.counters["load_end"] = LoadAverage();
}
// Rounds (iterations): each runs one step of every path.
BENCHMARK(BM_DreamBoothLoraStep)
    ->ArgNames({"latent", "checkpointing"})
    ->Args({32, 0})
    ->Args({32, 1})
    ->Iterations(5)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK(BM_DreamBoothLoraStep)
    ->ArgNames({"latent", "checkpointing"})
    ->Args({64, 0})
    ->Args({64, 1})
    ->Iterations(3)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace dreamshot::bench

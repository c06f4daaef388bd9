// Experiment-store throughput: batched metric ingestion (points/s) and a
// filtered, metric-ordered run search over 10k runs / 1M metric points.
// Targets (2-core machine): >= 100k points/s ingestion, < 50 ms per search.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

std::string BenchPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/dreamshot-bench-" + name + "-" +
                     std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

void BM_LogMetricsBatched(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  auto store = ExperimentStore::Open(BenchPath("ingest"));
  auto e = (*store)->CreateExperiment("ingest", "", {});
  NewRun r;
  r.experiment_id = e->id;
  const int64_t run_id = (*store)->CreateRun(r)->id;
  std::vector<MetricPoint> points(batch);
  int64_t step = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      // A realistic mix: a few keys per step, as a training loop logs them.
      points[i] = {i % 4 == 0 ? "loss" : i % 4 == 1 ? "lr" : i % 4 == 2 ? "grad_norm" : "loss_prior",
                   step + i / 4, 0.001 * i, 0};
    }
    step += batch / 4 + 1;
    auto result = (*store)->LogMetrics(run_id, points);
    if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["points_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LogMetricsBatched)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();

// 10,000 runs in one experiment, each with params, a tag and 100 metric points
// (98 loss steps + clip_t + dino): 1,000,000 points.
ExperimentStore* SearchStore(int64_t* experiment_id) {
  static ExperimentStore* store = nullptr;  // built once, on first use
  static int64_t id = 0;
  if (store == nullptr) {
    store = ExperimentStore::Open(BenchPath("search"))->release();
    id = store->CreateExperiment("sweep", "", {})->id;
    std::mt19937 rng(0);
    std::uniform_real_distribution<double> clip(0.28, 0.34);
    const int ranks[] = {4, 8, 16, 32};
    for (int i = 0; i < 10000; ++i) {
      NewRun r;
      r.experiment_id = id;
      r.name = "run" + std::to_string(i);
      r.params = {{"lora_rank", std::to_string(ranks[i % 4])},
                  {"lr", i % 3 ? "1e-4" : "5e-5"},
                  {"seed", std::to_string(i % 5)},
                  {"shot_type", i % 3 == 0 ? "close" : i % 3 == 1 ? "medium" : "long"}};
      r.tags = {{"keep", i % 7 == 0 ? "yes" : "no"}};
      const int64_t run_id = store->CreateRun(r)->id;
      std::vector<MetricPoint> points;
      for (int s = 0; s < 98; ++s) points.push_back({"loss", s, 1.0 / (s + 1), 0});
      points.push_back({"clip_t", 0, clip(rng), 0});
      points.push_back({"dino", 0, clip(rng) + 0.15, 0});
      (void)store->LogMetrics(run_id, std::move(points));
    }
  }
  *experiment_id = id;
  return store;
}

// Times SearchRuns over the 10k-run store; reports the page size it got.
void TimeSearch(benchmark::State& state, const std::string& filter, const std::string& order_by,
                int page_size) {
  int64_t experiment_id = 0;
  ExperimentStore* store = SearchStore(&experiment_id);
  RunQuery q;
  q.experiment_ids = {experiment_id};
  q.filter = filter;
  q.order_by = order_by;
  q.page_size = page_size;
  size_t matched = 0;
  for (auto _ : state) {
    auto page = store->SearchRuns(q);
    if (!page.ok()) {
      state.SkipWithError(std::string(page.status().message()).c_str());
      break;
    }
    matched = page->runs.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["page_runs"] = static_cast<double>(matched);
}

void BM_FilteredRunSearch(benchmark::State& state) {
  TimeSearch(state, "params.lora_rank = 8 and (metrics.clip_t > 0.3 or tags.keep = 'yes')",
             "metrics.clip_t desc", 100);
}
BENCHMARK(BM_FilteredRunSearch)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_NegatedFilterLargePage(benchmark::State& state) {
  TimeSearch(state, "not params.seed = 0 and attributes.status = 'running'", "metrics.dino asc", 1000);
}
BENCHMARK(BM_NegatedFilterLargePage)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace dreamshot::experiments

BENCHMARK_MAIN();

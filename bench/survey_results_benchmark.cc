// Time to compute a survey's results table (survey::ComputeResults): the
// bootstrap over participants dominates. Sizes: the DreamShot study (55
// participants × 36 pairs × 3 questions, 3 shot types, one comparison) and
// ten times as many participants; resamples as the RPC's default (2000).
//   bazel run -c opt //bench:survey_results_benchmark -- --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <random>

#include "survey/results.h"

namespace dreamshot::survey {
namespace {

ResultsInput Study(int participants, int pairs_per_participant, int pool) {
  ResultsInput in;
  in.question_keys = {"preference", "shot_type", "prompt"};
  const char* types[] = {"close", "medium", "long"};
  for (int i = 0; i < pool; ++i) in.items.push_back({i + 1, "base", "lora", types[i % 3], ""});
  std::mt19937_64 rng(1);
  const char* choices[] = {"x", "y", "y", "neither"};
  for (int p = 0; p < participants; ++p) {
    in.finished.insert(p);
    for (int k = 0; k < pairs_per_participant; ++k) {
      const int64_t item = (p * pairs_per_participant + k) % pool + 1;
      for (int q = 0; q < 3; ++q) in.answers.push_back({p, item, q, choices[rng() % 4], 4000 + int64_t(rng() % 8000)});
    }
  }
  in.participants_joined = participants;
  return in;
}

void BM_ComputeResults(benchmark::State& state) {
  const ResultsInput input = Study(static_cast<int>(state.range(0)), 36, 300);
  ResultsOptions options;
  options.resamples = static_cast<int>(state.range(1));
  for (auto _ : state) {
    auto results = ComputeResults(input, options);
    if (!results.ok()) state.SkipWithError(std::string(results.status().message()).c_str());
    benchmark::DoNotOptimize(results);
  }
  state.counters["answers"] = static_cast<double>(input.answers.size());
}
BENCHMARK(BM_ComputeResults)->Args({55, 2000})->Args({550, 2000})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dreamshot::survey

BENCHMARK_MAIN();

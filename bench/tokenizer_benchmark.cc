// CLIP tokenizer throughput on storyboard-style prompts, in prompts/s
// (items_per_second), with a warm word cache and with the cache cleared
// before every prompt (cold: every word goes through BPE).
//
//   bazel run -c opt //bench:tokenizer_benchmark -- --benchmark_repetitions=5
//     --benchmark_report_aggregates_only   (one command line)
//
// The tokenizer folder is $DREAMSHOT_TOKENIZER_DIR, else
// $DREAMSHOT_REFERENCE_DIR/tiny_sd/tokenizer, else ../shared/reference next to
// the workspace (found through the WORKSPACE runfile, as the tests do).
#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "models/clip/tokenizer.h"

namespace {

using dreamshot::models::clip::ClipTokenizer;
using dreamshot::models::clip::TextCleanup;
using dreamshot::models::clip::TokenizedBatch;

std::string TokenizerDir() {
  if (const char* dir = getenv("DREAMSHOT_TOKENIZER_DIR"); dir != nullptr && *dir) return dir;
  if (const char* ref = getenv("DREAMSHOT_REFERENCE_DIR"); ref != nullptr && *ref) {
    return std::string(ref) + "/tiny_sd/tokenizer";
  }
  char resolved[PATH_MAX];
  if (realpath("WORKSPACE", resolved) == nullptr) return "";
  std::string root(resolved);
  root.resize(root.find_last_of('/'));
  return root + "/../shared/reference/tiny_sd/tokenizer";
}

std::vector<std::string> StoryboardPrompts() {
  return {
      "Close Shot, Sarah speaking directly to the camera, cinematic lighting",
      "Medium Shot, two detectives arguing in a rainy alley at night, neon reflections",
      "Long Shot, a lone rider crossing the desert at dawn, wide angle, film grain",
      "Close Shot, an old man's trembling hands holding a faded photograph, shallow depth of field",
      "Medium Shot, kids running through a sunflower field, golden hour, 35mm",
      "Long Shot, a futuristic city skyline under two moons, volumetric fog, highly detailed",
      "Close Shot, a sks dog looking up at its owner, soft window light",
      "Medium Shot, chef plating a dessert in a busy kitchen, motion blur, warm tones",
  };
}

void Tokenize(benchmark::State& state, const ClipTokenizer* tokenizer, bool cold) {
  const std::vector<std::string> prompts = StoryboardPrompts();
  for (const std::string& p : prompts) benchmark::DoNotOptimize(tokenizer->Tokenize({p}));  // warm up
  size_t i = 0;
  for (auto _ : state) {
    if (cold) tokenizer->ClearCache();
    TokenizedBatch batch = tokenizer->Tokenize({prompts[i++ % prompts.size()]});
    benchmark::DoNotOptimize(batch.input_ids.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void TokenizeBatch(benchmark::State& state, const ClipTokenizer* tokenizer) {
  const std::vector<std::string> prompts = StoryboardPrompts();
  benchmark::DoNotOptimize(tokenizer->Tokenize(prompts));
  for (auto _ : state) {
    TokenizedBatch batch = tokenizer->Tokenize(prompts);
    benchmark::DoNotOptimize(batch.input_ids.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(prompts.size()));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::string dir = TokenizerDir();
  absl::StatusOr<ClipTokenizer> ftfy = ClipTokenizer::FromFolder(dir);
  if (!ftfy.ok()) {
    std::fprintf(stderr, "loading tokenizer from '%s': %s\n(set DREAMSHOT_TOKENIZER_DIR)\n", dir.c_str(),
                 ftfy.status().ToString().c_str());
    return 1;
  }
  const ClipTokenizer basic = ftfy->WithCleanup(TextCleanup::kBasicTokenizer);
  benchmark::RegisterBenchmark("Tokenize/ftfy/warm_cache", Tokenize, &*ftfy, false);
  benchmark::RegisterBenchmark("Tokenize/ftfy/cold_cache", Tokenize, &*ftfy, true);
  benchmark::RegisterBenchmark("Tokenize/basic_tokenizer/warm_cache", Tokenize, &basic, false);
  benchmark::RegisterBenchmark("Tokenize/basic_tokenizer/cold_cache", Tokenize, &basic, true);
  benchmark::RegisterBenchmark("TokenizeBatch8/ftfy/warm_cache", TokenizeBatch, &*ftfy);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

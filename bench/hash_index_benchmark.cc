// HashIndex (multi-index hashing) against a linear scan and a BK-tree on
// 100,000 random 64-bit hashes plus 1,000 planted near-duplicates, and the
// per-frame cost of hashing and filtering a 1920×1080 keyframe.
//
//   bazel run //dataset/filters:hash_index_benchmark --
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// Queries alternate between a planted item's near copy (hits) and a random
// hash (misses). us_per_query is the wall time per query in microseconds.
// The image benchmarks report wall time: OpenCV spreads cvtColor and resize
// over its worker threads, whose CPU time the CPU column would miss.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

#include "dataset/filters/frame_filters.h"
#include "dataset/filters/hash_index.h"
#include "dataset/filters/letterbox.h"
#include "dataset/filters/perceptual_hash.h"
#include "dataset/filters/test_images.h"

namespace dreamshot::dataset::filters {
namespace {

constexpr int kRandomItems = 100000;
constexpr int kPlanted = 1000;
constexpr int kQueries = 1024;

uint64_t Flip(uint64_t h, int bits, std::mt19937_64& rng) {
  for (int flipped = 0; flipped < bits;) {
    const uint64_t bit = uint64_t{1} << (rng() % 64);
    if (((h ^ bit) & bit) != (h & bit)) {
      h ^= bit;
      ++flipped;
    }
  }
  return h;
}

struct Data {
  std::vector<uint64_t> hashes;  // id = position
  std::vector<uint64_t> queries;
};

const Data& TestData() {
  static const Data* data = [] {
    auto* d = new Data;
    std::mt19937_64 rng(20240601);
    for (int i = 0; i < kRandomItems; ++i) d->hashes.push_back(rng());
    for (int i = 0; i < kPlanted; ++i) {  // near copies (1–6 bits) of random items
      d->hashes.push_back(Flip(d->hashes[rng() % kRandomItems], 1 + rng() % 6, rng));
    }
    for (int q = 0; q < kQueries; ++q) {
      d->queries.push_back(
          q % 2 ? rng() : Flip(d->hashes[kRandomItems + rng() % kPlanted], rng() % 4, rng));
    }
    return d;
  }();
  return *data;
}

HashIndex BuildIndex(const std::vector<uint64_t>& hashes) {
  HashIndex index;
  index.Reserve(hashes.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (!index.Add(static_cast<int64_t>(i), hashes[i]).ok()) std::abort();
  }
  return index;
}

// The alternative considered: a BK-tree (Burkhard–Keller) over Hamming
// distance. Children hang off a node by their distance to it; a query at
// distance d from a node need only visit children with edge in [d − r, d + r].
class BkTree {
 public:
  void Add(uint64_t hash) {
    const auto id = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(Node{hash});
    if (id == 0) return;
    uint32_t at = 0;
    while (true) {
      const int d = HammingDistance(hash, nodes_[at].hash);
      uint32_t& child = nodes_[at].child[d];
      if (child == 0) {
        child = id;
        return;
      }
      at = child;
    }
  }
  int CountWithin(uint64_t q, int r, std::vector<uint32_t>& stack) const {
    int count = 0;
    stack.assign(1, 0);
    while (!stack.empty()) {
      const Node& n = nodes_[stack.back()];
      stack.pop_back();
      const int d = HammingDistance(q, n.hash);
      count += d <= r;
      for (int e = std::max(1, d - r); e <= std::min(64, d + r); ++e) {
        if (n.child[e] != 0) stack.push_back(n.child[e]);
      }
    }
    return count;
  }

 private:
  struct Node {
    uint64_t hash;
    uint32_t child[65] = {};  // by distance; 0 = none (node 0 is the root)
  };
  std::vector<Node> nodes_;
};

// The query loop's wall time per iteration (one query), in microseconds.
class QueryTimer {
 public:
  QueryTimer() : start_(std::chrono::steady_clock::now()) {}
  double MicrosPer(int64_t iterations) const {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_)
               .count() /
           static_cast<double>(std::max<int64_t>(1, iterations));
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

void SetPerQuery(benchmark::State& state, const QueryTimer& timer, int64_t matches) {
  state.counters["us_per_query"] = timer.MicrosPer(state.iterations());
  state.counters["matches_per_query"] =
      benchmark::Counter(static_cast<double>(matches), benchmark::Counter::kAvgIterations);
}

void BM_IndexBuild(benchmark::State& state) {
  const Data& d = TestData();
  for (auto _ : state) benchmark::DoNotOptimize(BuildIndex(d.hashes).size());
  state.counters["items"] = static_cast<double>(d.hashes.size());
}
BENCHMARK(BM_IndexBuild)->Unit(benchmark::kMillisecond);

void BM_BkTreeBuild(benchmark::State& state) {
  const Data& d = TestData();
  for (auto _ : state) {
    auto tree = std::make_unique<BkTree>();
    for (uint64_t h : d.hashes) tree->Add(h);
    benchmark::DoNotOptimize(tree);
  }
}
BENCHMARK(BM_BkTreeBuild)->Unit(benchmark::kMillisecond);

int BruteForceCount(const Data& d, uint64_t query, int radius) {
  int count = 0;
  for (uint64_t h : d.hashes) count += HammingDistance(query, h) <= radius;
  return count;
}

// Every method must find exactly what the scan finds, or its time is moot.
void CheckAgainstBruteForce(const char* method, const std::function<int(uint64_t, int)>& count) {
  const Data& d = TestData();
  for (int radius : {6, 10}) {
    for (uint64_t query : d.queries) {
      if (count(query, radius) != BruteForceCount(d, query, radius)) {
        std::fprintf(stderr, "%s disagrees with brute force at radius %d\n", method, radius);
        std::abort();
      }
    }
  }
}

void BM_IndexQuery(benchmark::State& state) {
  const Data& d = TestData();
  static const HashIndex* index = [&] {
    auto* i = new HashIndex(BuildIndex(d.hashes));
    CheckAgainstBruteForce("HashIndex", [i](uint64_t q, int r) {
      return static_cast<int>(i->WithinRadius(q, r).size());
    });
    return i;
  }();
  const int radius = static_cast<int>(state.range(0));
  int64_t matches = 0;
  size_t q = 0;
  const QueryTimer timer;
  for (auto _ : state) {
    matches += static_cast<int64_t>(index->WithinRadius(d.queries[q++ % kQueries], radius).size());
  }
  SetPerQuery(state, timer, matches);
}
BENCHMARK(BM_IndexQuery)->Arg(6)->Arg(10)->Unit(benchmark::kMicrosecond);

void BM_BruteForceQuery(benchmark::State& state) {
  const Data& d = TestData();
  const int radius = static_cast<int>(state.range(0));
  int64_t matches = 0;
  size_t q = 0;
  const QueryTimer timer;
  for (auto _ : state) {
    const uint64_t query = d.queries[q++ % kQueries];
    for (uint64_t h : d.hashes) matches += HammingDistance(query, h) <= radius;
  }
  SetPerQuery(state, timer, matches);
}
BENCHMARK(BM_BruteForceQuery)->Arg(6)->Arg(10)->Unit(benchmark::kMicrosecond);

void BM_BkTreeQuery(benchmark::State& state) {
  const Data& d = TestData();
  static const BkTree* tree = [&] {
    auto* t = new BkTree;
    for (uint64_t h : d.hashes) t->Add(h);
    CheckAgainstBruteForce("BkTree", [t](uint64_t q, int r) {
      std::vector<uint32_t> stack;
      return t->CountWithin(q, r, stack);
    });
    return t;
  }();
  const int radius = static_cast<int>(state.range(0));
  std::vector<uint32_t> stack;
  int64_t matches = 0;
  size_t q = 0;
  const QueryTimer timer;
  for (auto _ : state) matches += tree->CountWithin(d.queries[q++ % kQueries], radius, stack);
  SetPerQuery(state, timer, matches);
}
BENCHMARK(BM_BkTreeQuery)->Arg(6)->Arg(10)->Unit(benchmark::kMicrosecond);

const cv::Mat& Frame1080p() {
  static const cv::Mat* frame = new cv::Mat(testing::NoiseTexture(1920, 1080, 7));
  return *frame;
}

void BM_PerceptualHash1080p(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(PerceptualHash(Frame1080p()));
}
BENCHMARK(BM_PerceptualHash1080p)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_DifferenceHash1080p(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(DifferenceHash(Frame1080p()));
}
BENCHMARK(BM_DifferenceHash1080p)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_RunFilters1080p(benchmark::State& state) {
  FilterConfig config;
  config.check_text = state.range(0) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(RunFilters(Frame1080p(), config));
}
BENCHMARK(BM_RunFilters1080p)
    ->ArgName("text")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_DetectContentBox1080p(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(DetectContentBox(Frame1080p()));
}
BENCHMARK(BM_DetectContentBox1080p)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace dreamshot::dataset::filters

BENCHMARK_MAIN();

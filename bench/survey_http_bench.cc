// The survey's participant HTTP API over loopback, against an in-process
// dreamshotd (the clients run in the same process and share its cores).
// Each participant is a thread with its own keep-alive client that joins,
// consents and, for each of its 11 pairs (10 + 1 attention check), gets the
// pair, both images for every third pair, and posts its answers.
//   BM_SurveyHttp/N       N participants at once, no pauses (saturation):
//                         answers_per_s counts pair submissions stored (3
//                         answers each), requests_per_s every request;
//                         p50_ms / p99_ms over all requests.
//   BM_SurveyHttpPaced/N  N participants who arrive over 2 s and look at
//                         each pair for 2 s, as people do: the time then
//                         goes to idle keep-alive connections, and p99_ms
//                         shows whether requests queue behind them.
// The server's settings come from services::SurveyWebOptions; to compare,
//   SURVEY_BENCH_WORKERS=N SURVEY_BENCH_IDLE_MS=N SURVEY_BENCH_KEEPALIVE_COUNT=N
// override the worker threads, keep-alive idle timeout and requests per
// connection.
// Data goes to $TEST_TMPDIR or /tmp (removed at exit). Run with
//   bazel run -c opt //bench:survey_http_bench -- --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "experiments/store.h"
#include "experiments/store_set.h"
#include "services/server.h"
#include "survey/statistics.h"
#include "survey/survey_admin.h"
#include "tests/survey_test_pairs.h"

namespace dreamshot {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kPairs = 24;
constexpr int kPairsPerParticipant = 10;
constexpr int kAttentionChecks = 1;

void FromEnv(const char* name, int& field) {
  if (const char* v = std::getenv(name); v && *v) field = std::atoi(v);
}

// One server and 24 stored A/B pairs for the whole run; each benchmark run
// gets a fresh survey over them.
class Fixture {
 public:
  static Fixture& Get() {
    static Fixture* fixture = new Fixture();  // built on first use, never destroyed
    return *fixture;
  }

  int port() const { return server_->survey_port(); }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // A new open survey; its name.
  std::string NewSurvey() {
    survey::NewSurvey request;
    request.name = "bench-" + std::to_string(next_survey_++);
    request.pair_runs = {pairs_run_};
    request.config.pairs_per_participant = kPairsPerParticipant;
    request.config.attention_checks = kAttentionChecks;
    auto created = survey::CreateSurvey(stores_->all(), request);
    if (!created.ok() || !stores_->surveys()->SetSurveyStatus(created->id, "open").ok()) return "";
    return request.name;
  }

 private:
  Fixture() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/dreamshot-survey-http-bench-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    static std::string* removed_at_exit = new std::string(dir_);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(*removed_at_exit, ignored);
    });
    services::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = dir_;
    options.survey_listen = "127.0.0.1:0";
    // All clients are 127.0.0.1: the per-address limits would throttle them as one.
    options.survey_web.requests_per_s = options.survey_web.request_burst = 1e9;
    options.survey_web.joins_per_minute = 1e9;
    FromEnv("SURVEY_BENCH_WORKERS", options.survey_web.connections.workers);
    FromEnv("SURVEY_BENCH_IDLE_MS", options.survey_web.connections.idle_timeout_ms);
    FromEnv("SURVEY_BENCH_KEEPALIVE_COUNT", options.survey_web.connections.keep_alive_max_requests);
    auto server = services::DreamshotServer::Start(options);
    if (!server.ok()) {
      error_ = server.status().ToString();
      return;
    }
    server_ = std::move(*server);
    auto store = experiments::ExperimentStore::Open(server_->store_path());
    if (!store.ok()) {
      error_ = store.status().ToString();
      return;
    }
    store_ = std::move(*store);
    stores_ = std::make_unique<experiments::StoreSet>(store_.get());
    auto pairs = testing::StoreTestPairs(stores_->all(), dir_ + "/artifacts", kPairs, 64);
    if (!pairs.ok()) {
      error_ = pairs.status().ToString();
      return;
    }
    pairs_run_ = pairs->run_id;
  }

  std::string dir_, error_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<experiments::StoreSet> stores_;
  int64_t pairs_run_ = 0;
  int next_survey_ = 0;
};

struct Tally {
  std::vector<double> ms;  // every request's latency
  int64_t answers = 0;     // pair submissions stored
  int64_t errors = 0;
};

// One participant from join to its last answer.
void Participate(int port, const std::string& survey, int i, std::chrono::milliseconds think, Tally& out) {
  std::this_thread::sleep_for(think / 200 * (i % 200));  // paced participants arrive over one pause, not at once
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(60, 0);
  const std::string api = "/api/s/" + survey;
  httplib::Headers auth;
  auto timed = [&](auto&& request) {
    const auto start = Clock::now();
    httplib::Result r = request();
    out.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!r || r->status != 200) ++out.errors;
    return r;
  };
  auto joined = timed([&] { return client.Post(api + "/join", "", "application/json"); });
  if (!joined || joined->status != 200) return;
  auth = {{"Authorization", "Bearer " + json::parse(joined->body).at("token").get<std::string>()}};
  if (!timed([&] { return client.Post(api + "/consent", auth, "", "application/json"); })) return;
  const char* options[] = {"A", "B", "neither"};
  for (int p = 0; p < kPairsPerParticipant + kAttentionChecks; ++p) {
    auto pair = timed([&] { return client.Get(api + "/pairs/" + std::to_string(p), auth); });
    if (!pair || pair->status != 200) return;
    if ((i + p) % 3 == 0) {
      const json shown = json::parse(pair->body);
      for (const char* side : {"imageA", "imageB"}) {
        timed([&] { return client.Get(shown.at(side).get<std::string>(), auth); });
      }
    }
    std::this_thread::sleep_for(think);
    const std::string body = json{
        {"position", p},
        {"answers", {options[(i + p) % 3], options[(i + 2 * p) % 3], options[(7 * i + p) % 3]}},
        {"idempotencyKey",
         std::to_string(i) + "-" +
             std::to_string(p)}}.dump();
    auto saved = timed([&] { return client.Post(api + "/answers", auth, body, "application/json"); });
    if (saved && saved->status == 200) ++out.answers;
  }
}

void Run(benchmark::State& state, std::chrono::milliseconds think) {
  Fixture& fixture = Fixture::Get();
  if (!fixture.ok()) return state.SkipWithError(fixture.error().c_str());
  const std::string survey = fixture.NewSurvey();
  if (survey.empty()) return state.SkipWithError("cannot create the survey");
  const int participants = static_cast<int>(state.range(0));
  std::vector<double> ms;
  int64_t answers = 0, errors = 0, seq = 0;
  for (auto _ : state) {
    std::vector<Tally> tallies(participants);
    std::vector<std::thread> threads;
    for (int i = 0; i < participants; ++i) {
      threads.emplace_back([&, i, id = seq + i] { Participate(fixture.port(), survey, id, think, tallies[i]); });
    }
    for (auto& t : threads) t.join();
    seq += participants;
    for (Tally& t : tallies) {
      ms.insert(ms.end(), t.ms.begin(), t.ms.end());
      answers += t.answers;
      errors += t.errors;
    }
  }
  if (errors > 0) return state.SkipWithError((std::to_string(errors) + " requests failed").c_str());
  state.counters["answers_per_s"] = benchmark::Counter(static_cast<double>(answers), benchmark::Counter::kIsRate);
  state.counters["requests_per_s"] = benchmark::Counter(static_cast<double>(ms.size()), benchmark::Counter::kIsRate);
  state.counters["p50_ms"] = survey::Quantile(ms, 0.5);
  state.counters["p99_ms"] = survey::Quantile(ms, 0.99);
  state.counters["max_ms"] = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
}

void BM_SurveyHttp(benchmark::State& state) { Run(state, std::chrono::milliseconds(0)); }
BENCHMARK(BM_SurveyHttp)->Arg(1)->Arg(16)->Arg(64)->Arg(200)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SurveyHttpPaced(benchmark::State& state) { Run(state, std::chrono::milliseconds(2000)); }
BENCHMARK(BM_SurveyHttpPaced)->Arg(200)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dreamshot

BENCHMARK_MAIN();

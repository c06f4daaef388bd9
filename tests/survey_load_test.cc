// A loopback load test of the survey's participant HTTP API: 200
// participants at once, each a thread with its own keep-alive client, go
// through the whole flow (join, consent, session, pairs, images, answers),
// retry some submissions, send some twice at the same moment from two
// connections, and a few pause past the keep-alive timeout (the server
// closes their connection; they reconnect). The server runs with its
// default connection settings and only the per-address rate limits raised
// (every client is 127.0.0.1). Afterwards the store must hold every answer
// exactly once, every participant must be finished and the pairs evenly
// covered.
//
// Throughput and latency percentiles per request kind are printed (they land
// in the test log) but never asserted: timing targets belong in bench/
// (bench/survey_http_bench.cc), not in a test on a shared machine.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "experiments/store.h"
#include "experiments/store_set.h"
#include "survey/participant_token.h"
#include "survey/statistics.h"
#include "survey/survey_admin.h"
#include "survey/survey_export.h"
#include "tests/service_test_util.h"
#include "tests/survey_test_pairs.h"

namespace dreamshot {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kParticipants = 200;
constexpr int kPairs = 24;  // 8 per shot type
constexpr int kPairsPerParticipant = 10;
constexpr int kAttentionChecks = 1;
constexpr int kAssigned = kPairsPerParticipant + kAttentionChecks;
constexpr int kQuestions = 3;
constexpr char kSurvey[] = "load";
// No request may take longer than this (a stuck server fails the test
// instead of hanging it), nor the whole run longer than kDeadline.
constexpr int kRequestTimeoutS = 30;
constexpr auto kDeadline = std::chrono::seconds(100);

enum Kind { kJoin, kConsent, kSession, kPair, kImage, kAnswer, kRetry, kConcurrent, kExpectedError, kKinds };
constexpr const char* kKindNames[kKinds] = {"join",   "consent",      "session",           "pair",          "image",
                                            "answer", "answer retry", "answer concurrent", "expected error"};

const char* const kOptions[3] = {"A", "B", "neither"};

int64_t Int(const json& j, const char* key) {
  if (!j.contains(key)) return 0;  // proto JSON leaves out nothing here, but be safe
  const json& v = j.at(key);
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

// What one participant thread saw.
struct Outcome {
  std::array<std::vector<double>, kKinds> ms;  // latency per request kind
  std::vector<std::string> errors;             // unexpected results, the first few
  int64_t unexpected = 0;
  int64_t requests = 0;
  std::string token;
  std::map<int64_t, std::vector<std::string>> sent;  // position → answers sent
  int concurrent_pairs = 0, concurrent_fresh = 0;    // sent twice at once; of those, stored fresh

  void Fail(const std::string& what) {
    ++unexpected;
    if (errors.size() < 5) errors.push_back(what);
  }
};

std::unique_ptr<httplib::Client> NewClient(int port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);  // as browsers do
  client->set_connection_timeout(kRequestTimeoutS, 0);
  client->set_read_timeout(kRequestTimeoutS, 0);
  client->set_write_timeout(kRequestTimeoutS, 0);
  return client;
}

std::string Describe(const httplib::Result& r) {
  if (!r) return "transport error " + httplib::to_string(r.error());
  return "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200);
}

// One participant, start to finish. Participant i's choices are a fixed
// pattern of (i, position), so the stored answers can be checked.
class Participant {
 public:
  Participant(int i, int port, Outcome* out) : i_(i), port_(port), out_(out), client_(NewClient(port)) {}

  void Run() {
    const std::string api = std::string("/api/s/") + kSurvey;
    auto joined = Timed(kJoin, [&] { return client_->Post(api + "/join", "", "application/json"); });
    if (!Ok(joined, "join")) return;
    out_->token = json::parse(joined->body).at("token");
    headers_ = {{"Authorization", "Bearer " + out_->token}};

    auto session = Timed(kSession, [&] { return client_->Get(api + "/session", headers_); });
    if (!Ok(session, "session")) return;
    const int64_t total = Int(json::parse(session->body), "total");
    if (total != kAssigned) out_->Fail("total " + std::to_string(total));
    if (!Ok(Timed(kConsent, [&] { return client_->Post(api + "/consent", headers_, "", "application/json"); }),
            "consent")) {
      return;
    }

    for (int64_t p = 0; p < total; ++p) {
      const std::string pos = std::to_string(p);
      if ((i_ + p) % 2 == 0) {  // a reload: the page asks where to resume
        auto s = Timed(kSession, [&] { return client_->Get(api + "/session", headers_); });
        if (!Ok(s, "session")) return;
        if (Int(json::parse(s->body), "nextPosition") != p) out_->Fail("session resumes at the wrong pair " + pos);
      }
      auto pair = Timed(kPair, [&] { return client_->Get(api + "/pairs/" + pos, headers_); });
      if (!Ok(pair, "pair " + pos)) return;
      if ((i_ + p) % 3 == 0) {  // some pages load both images (others had them cached)
        const json shown = json::parse(pair->body);
        for (const char* side : {"imageA", "imageB"}) {
          auto image = Timed(kImage, [&] { return client_->Get(shown.at(side).get<std::string>(), headers_); });
          if (!Ok(image, "image")) return;
          if (image->get_header_value("Content-Type") != "image/png" || image->body.size() < 8) {
            out_->Fail("not a PNG");
          }
        }
      }
      std::vector<std::string> answers = {kOptions[(i_ + p) % 3], kOptions[(i_ + 2 * p) % 3],
                                          kOptions[(7 * i_ + p) % 3]};
      out_->sent[p] = answers;
      const std::string body = json{
          {"position", p},
          {"answers", answers},
          {"idempotencyKey", "p" + std::to_string(i_) + "-" + pos},
          {"elapsedMs", 1000 + p}}.dump();
      if (i_ % 10 == 0 && p == 2) {
        SendTwiceAtOnce(api + "/answers", body);
      } else {
        auto saved =
            Timed(kAnswer, [&] { return client_->Post(api + "/answers", headers_, body, "application/json"); });
        if (!Ok(saved, "answer " + pos)) return;
        const json r = json::parse(saved->body);
        if (r.value("replayed", false)) out_->Fail("a first submission reported replayed at " + pos);
        if (Int(r, "nextPosition") != p + 1) out_->Fail("next position after " + pos);
        if (r.value("finished", false) != (p + 1 == total)) out_->Fail("finished flag after " + pos);
      }
      if (i_ % 50 == 3 && p == 1) {
        // A participant who looks at a pair longer than the keep-alive
        // timeout: the server closes the idle connection, the client
        // reconnects for its next request.
        std::this_thread::sleep_for(
            std::chrono::milliseconds(services::SurveyWebOptions().connections.idle_timeout_ms + 1000));
      }
      if ((i_ + p) % 5 == 0) {  // a retry after a lost response: same key, same answers
        auto again = Timed(kRetry, [&] { return client_->Post(api + "/answers", headers_, body, "application/json"); });
        if (!Ok(again, "retry " + pos)) return;
        if (!json::parse(again->body).value("replayed", false)) out_->Fail("a retry was not reported replayed");
      }
      if (i_ % 25 == 1 && p == 0) {  // changed answers for an answered pair: 409
        json changed = json::parse(body);
        changed["answers"] = {answers[0] == "A" ? "B" : "A", answers[1], answers[2]};
        changed["idempotencyKey"] = "changed";
        Expect(409, Timed(kExpectedError, [&] {
                 return client_->Post(api + "/answers", headers_, changed.dump(), "application/json");
               }));
      }
    }
    if (i_ % 25 == 2) {  // a pair past the end of the assignment: 404
      Expect(404,
             Timed(kExpectedError, [&] { return client_->Get(api + "/pairs/" + std::to_string(total), headers_); }));
    }
    auto done = Timed(kSession, [&] { return client_->Get(api + "/session", headers_); });
    if (Ok(done, "final session") && !json::parse(done->body).value("finished", false)) {
      out_->Fail("not finished after the last pair");
    }
  }

 private:
  template <typename F>
  httplib::Result Timed(Kind kind, F&& request) {
    const auto start = Clock::now();
    httplib::Result r = request();
    last_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    out_->ms[kind].push_back(last_ms_);
    ++out_->requests;
    return r;
  }

  bool Ok(const httplib::Result& r, const std::string& what) {
    if (r && r->status == 200) return true;
    out_->Fail("participant " + std::to_string(i_) + " " + what + ": " + Describe(r) + " after " +
               std::to_string(last_ms_) + " ms");
    return false;
  }

  void Expect(int status, const httplib::Result& r) {
    if (!r || r->status != status) out_->Fail("expected HTTP " + std::to_string(status) + ", got " + Describe(r));
  }

  // The same submission from two connections at the same moment (a double
  // click racing a retry): both succeed, exactly one stores.
  void SendTwiceAtOnce(const std::string& path, const std::string& body) {
    std::atomic<int> ready{0};
    std::optional<httplib::Result> results[2];
    double ms[2] = {0, 0};
    auto send = [&](httplib::Client& client, int k) {
      ready.fetch_add(1);
      while (ready.load() < 2) std::this_thread::yield();
      const auto start = Clock::now();
      results[k].emplace(client.Post(path, headers_, body, "application/json"));
      ms[k] = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };
    auto other = NewClient(port_);
    std::thread second([&] { send(*other, 1); });
    send(*client_, 0);
    second.join();
    int fresh = 0;
    for (int k = 0; k < 2; ++k) {
      out_->ms[kConcurrent].push_back(ms[k]);
      ++out_->requests;
      if (!Ok(*results[k], "concurrent answer")) return;
      if (!json::parse((*results[k])->body).value("replayed", false)) ++fresh;
    }
    ++out_->concurrent_pairs;
    out_->concurrent_fresh += fresh;
    if (fresh != 1) out_->Fail("a submission sent twice at once was stored " + std::to_string(fresh) + " times");
  }

  const int i_, port_;
  Outcome* out_;
  std::unique_ptr<httplib::Client> client_;
  httplib::Headers headers_;
  double last_ms_ = 0;
};

class SurveyLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("survey-load");
    server_ = testing::StartServer(data_dir_, "", [](services::ServerOptions& o) {
      o.survey_listen = "127.0.0.1:0";
      // Every simulated participant comes from 127.0.0.1: the per-address
      // limits (30 requests/s, 20 joins/minute by default) would throttle
      // the whole test as one client. Still on, so the limiter runs under
      // load, but far above what the test sends.
      o.survey_web.requests_per_s = 1e6;
      o.survey_web.request_burst = 1e6;
      o.survey_web.joins_per_minute = 1e6;
    });
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(server_->survey_port(), 0);
    auto store = experiments::ExperimentStore::Open(server_->store_path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    stores_ = std::make_unique<experiments::StoreSet>(store_.get());

    // 24 stored A/B pairs of small PNGs over three shot types, as `dreamshot pairs` stores them.
    auto pairs = testing::StoreTestPairs(stores_->all(), data_dir_ + "/artifacts", kPairs, 64);
    ASSERT_TRUE(pairs.ok()) << pairs.status();
    survey::NewSurvey request;
    request.name = kSurvey;
    request.pair_runs = {pairs->run_id};
    request.config.pairs_per_participant = kPairsPerParticipant;
    request.config.attention_checks = kAttentionChecks;
    request.config.seed = 7;
    auto survey = survey::CreateSurvey(stores_->all(), request);
    ASSERT_TRUE(survey.ok()) << survey.status();
    survey_id_ = survey->id;
    ASSERT_TRUE(stores_->surveys()->SetSurveyStatus(survey_id_, "open").ok());
  }

  std::string data_dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<experiments::StoreSet> stores_;
  int64_t survey_id_ = 0;
};

TEST_F(SurveyLoadTest, TwoHundredParticipantsAtOnceStoreEveryAnswerExactlyOnce) {
  std::vector<Outcome> outcomes(kParticipants);
  const auto start = Clock::now();
  {
    std::vector<std::thread> threads;
    threads.reserve(kParticipants);
    for (int i = 0; i < kParticipants; ++i) {
      threads.emplace_back([&, i] { Participant(i, server_->survey_port(), &outcomes[i]).Run(); });
    }
    for (auto& t : threads) t.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(seconds, std::chrono::duration<double>(kDeadline).count()) << "bounded in time";

  // Throughput and latency, for the log.
  int64_t requests = 0, unexpected = 0, concurrent = 0, concurrent_fresh = 0;
  std::array<std::vector<double>, kKinds> ms;
  for (Outcome& o : outcomes) {
    requests += o.requests;
    unexpected += o.unexpected;
    concurrent += o.concurrent_pairs;
    concurrent_fresh += o.concurrent_fresh;
    for (int k = 0; k < kKinds; ++k) ms[k].insert(ms[k].end(), o.ms[k].begin(), o.ms[k].end());
    for (const std::string& e : o.errors) ADD_FAILURE() << e;
  }
  const int64_t stored_pairs = int64_t{kParticipants} * kAssigned;
  std::ostringstream report;
  report << std::fixed << std::setprecision(1) << "\nsurvey load: " << kParticipants << " participants, " << requests
         << " requests in " << seconds << " s: " << requests / seconds << " requests/s, " << stored_pairs / seconds
         << " pair answers/s (" << stored_pairs * kQuestions / seconds << " answer rows/s)\n"
         << std::setprecision(2) << "  " << std::left << std::setw(18) << "kind" << std::right << std::setw(7)
         << "count" << std::setw(10) << "p50 ms" << std::setw(10) << "p99 ms" << std::setw(10) << "max ms\n";
  for (int k = 0; k < kKinds; ++k) {
    std::vector<double>& v = ms[k];
    const double p50 = survey::Quantile(v, 0.5), p99 = survey::Quantile(v, 0.99);
    const double max = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    report << "  " << std::left << std::setw(18) << kKindNames[k] << std::right << std::setw(7) << v.size()
           << std::setw(10) << p50 << std::setw(10) << p99 << std::setw(10) << max << "\n";
  }
  std::cout << report.str() << std::flush;
  EXPECT_EQ(unexpected, 0) << "every request got the status it should";
  EXPECT_EQ(concurrent, kParticipants / 10);
  EXPECT_EQ(concurrent_fresh, concurrent) << "of two identical submissions at once, exactly one stores";

  // The store: every (participant, item, question) exactly once, as sent.
  auto participants = stores_->surveys()->ListSurveyParticipants(survey_id_);
  ASSERT_TRUE(participants.ok()) << participants.status();
  ASSERT_EQ(participants->size(), static_cast<size_t>(kParticipants));
  for (const auto& p : *participants) {
    EXPECT_TRUE(p.consented_ms.has_value()) << "participant " << p.seq;
    EXPECT_TRUE(p.finished_ms.has_value()) << "participant " << p.seq;
  }
  auto answers = stores_->surveys()->ListSurveyAnswers(survey_id_);
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_EQ(answers->size(), static_cast<size_t>(kParticipants * kAssigned * kQuestions));
  std::set<std::tuple<int64_t, int64_t, int>> seen;
  std::map<std::pair<int64_t, int64_t>, std::vector<std::string>> stored;  // (participant, item) → shown
  for (const auto& a : *answers) {
    EXPECT_TRUE(seen.insert({a.participant_id, a.item_id, a.question}).second)
        << "participant " << a.participant_id << " item " << a.item_id << " question " << a.question << " twice";
    auto& shown = stored[{a.participant_id, a.item_id}];
    shown.resize(std::max<size_t>(shown.size(), a.question + 1));
    shown[a.question] = a.shown;
  }
  for (const Outcome& o : outcomes) {
    if (o.token.empty()) continue;  // already failed above
    auto p = stores_->surveys()->FindSurveyParticipant(survey::TokenHash(o.token));
    ASSERT_TRUE(p.ok()) << p.status();
    auto assigned = stores_->surveys()->ListSurveyAssignments(p->id);
    ASSERT_TRUE(assigned.ok());
    ASSERT_EQ(assigned->size(), static_cast<size_t>(kAssigned));
    for (const auto& [position, sent] : o.sent) {
      const std::pair<int64_t, int64_t> key = {p->id, (*assigned)[position].item_id};
      EXPECT_EQ(stored[key], sent) << "participant " << p->seq << " pair " << position;
    }
  }

  // The CSV export agrees: one row per answer, no (participant, item, question) twice.
  auto csv = survey::ExportAnswersCsv(*stores_->surveys(), survey_id_);
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(csv->rows, kParticipants * kAssigned * kQuestions);
  std::istringstream rows(csv->text);
  std::string line;
  std::getline(rows, line);  // header
  std::set<std::string> keys;
  int64_t lines = 0;
  while (std::getline(rows, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) f.push_back(cell);
    ASSERT_GE(f.size(), 16u) << line;
    EXPECT_TRUE(keys.insert(f[0] + "/" + f[2] + "/" + f[7]).second) << "CSV row twice: " << line;
    ++lines;
  }
  EXPECT_EQ(lines, kParticipants * kAssigned * kQuestions);

  // Coverage: joins at the same time still see each other's counts.
  auto progress = survey::GetSurveyProgress(*stores_->surveys(), survey_id_);
  ASSERT_TRUE(progress.ok()) << progress.status();
  EXPECT_EQ(progress->finished, kParticipants);
  EXPECT_EQ(progress->answered_items, kParticipants * kAssigned);
  std::cout << "coverage: each pair shown " << progress->min_shown << " to " << progress->max_shown << " times\n";
  EXPECT_LE(progress->max_shown - progress->min_shown, 1);
}

}  // namespace
}  // namespace dreamshot

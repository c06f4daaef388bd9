// What an attacker on loopback, or a curious participant, gets from the
// survey pages: a blind study must be blind in every byte it serves, and a
// limit must hold for every encoding of a request. Raw sockets where an
// HTTP client would not send what an attacker sends.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/png.h"
#include "core/testdata_paths.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "dreamshot/v1/survey.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

using nlohmann::json;

// A TCP connection to 127.0.0.1:port from `source` (any 127.x address).
class RawConnection {
 public:
  RawConnection(int port, const std::string& source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  // False once the server has closed the connection.
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sends until it closes or `timeout_ms` passes.
  std::string Receive(int timeout_ms) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
      if (::poll(&p, 1, std::max(1, left)) <= 0) continue;
      char buffer[65536];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // The status code of the first response in `Receive`'s output.
  static int Status(const std::string& response) {
    return response.size() > 12 ? std::atoi(response.substr(9, 3).c_str()) : 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// PNG chunks: type and data, in order.
std::vector<std::pair<std::string, std::string>> Chunks(const std::string& png) {
  std::vector<std::pair<std::string, std::string>> chunks;
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(png.data() + at);
    const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    chunks.emplace_back(png.substr(at + 4, 4), png.substr(at + 8, length));
    at += 12 + length;
  }
  return chunks;
}

class SurveySecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("survey-security");
    server_ = testing::StartServer(data_dir_, "", [this](services::ServerOptions& o) {
      o.survey_listen = "127.0.0.1:0";
      o.survey_web.requests_per_s = 0;
      o.survey_web.joins_per_minute = 0;
      Configure(o);
    });
    ASSERT_NE(server_, nullptr);
    port_ = server_->survey_port();
    channel_ = testing::ChannelTo(*server_);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  virtual void Configure(services::ServerOptions&) {}

  // Pairs from two systems that differ in name, LoRA and pixels: the
  // reference tiny model as "modelalpha" against the same model as
  // "modelbeta" with the kohya LoRA, under labels that must stay secret.
  // Returns the pairs run; `secrets` gets every string that names a system.
  int64_t GenerateTwoSystemPairs(std::set<std::string>* secrets) {
    const std::string alpha = data_dir_ + "/modelalpha", beta = data_dir_ + "/modelbeta";
    std::filesystem::create_directory_symlink(core::ReferencePath("tiny_sd"), alpha);
    std::filesystem::create_directory_symlink(core::ReferencePath("tiny_sd"), beta);
    v1::GeneratePairsRequest request;
    v1::GenerationRequest* g = request.mutable_generation();
    g->set_width(32);
    g->set_height(32);
    g->set_steps(2);
    g->set_scheduler("ddim");
    g->add_seeds(5);
    request.mutable_a()->set_label("secretbaseline");
    request.mutable_a()->mutable_model()->set_base(alpha);
    request.mutable_b()->set_label("secretfinetuned");
    request.mutable_b()->mutable_model()->set_base(beta);
    v1::LoraRef* lora = request.mutable_b()->mutable_model()->add_loras();
    lora->set_path(core::ReferencePath("lora/lora_kohya.safetensors"));
    lora->set_scale(0.8);
    for (const char* prompt : {"Close Shot, an old sailor", "Medium Shot, a net", "Long Shot, a harbour"}) {
      request.add_prompts()->set_prompt(prompt);
    }
    request.mutable_target()->set_experiment("blind");
    auto generator = v1::GeneratorService::NewStub(channel_);
    grpc::ClientContext context;
    auto reader = generator->GeneratePairs(&context, request);
    v1::GeneratePairsResponse message;
    int64_t run_id = 0;
    *secrets = {"secretbaseline", "secretfinetuned", "modelalpha", "modelbeta", "lora_kohya", "Lora hashes", "Model hash"};
    while (reader->Read(&message)) {
      run_id = message.run_id();
      if (!message.has_pair()) continue;
      for (const v1::GeneratedImage* image : {&message.pair().image_a(), &message.pair().image_b()}) {
        EXPECT_NE(image->parameters().find("Model: model"), std::string::npos) << image->parameters();
        // Every hash the stored parameters carry (model, LoRA, sha256).
        const std::string& text = image->parameters();
        const std::regex hex("[0-9a-f]{10,}");
        for (auto it = std::sregex_iterator(text.begin(), text.end(), hex); it != std::sregex_iterator(); ++it) {
          secrets->insert(it->str());
        }
      }
    }
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return run_id;
  }

  void CreateAndOpen(const std::string& name, int64_t pairs_run, int per_participant) {
    auto surveys = v1::SurveyService::NewStub(channel_);
    grpc::ClientContext create_context;
    v1::CreateSurveyRequest create;
    create.set_name(name);
    create.add_pair_runs(pairs_run);
    create.mutable_config()->set_pairs_per_participant(per_participant);
    create.mutable_config()->set_attention_checks(0);
    v1::Survey survey;
    grpc::Status created = surveys->CreateSurvey(&create_context, create, &survey);
    ASSERT_TRUE(created.ok()) << created.error_message();
    grpc::ClientContext open_context;
    v1::SurveyRef ref;
    ref.set_survey(name);
    ASSERT_TRUE(surveys->OpenSurvey(&open_context, ref, &survey).ok());
  }

  std::string Join(const std::string& survey, bool consent = true) {
    auto joined = http_->Post("/api/s/" + survey + "/join", "", "application/json");
    EXPECT_TRUE(joined && joined->status == 200);
    if (!joined || joined->status != 200) return "";
    const std::string token = json::parse(joined->body).at("token");
    if (consent) {
      EXPECT_EQ(http_->Post("/api/s/" + survey + "/consent", Auth(token), "", "application/json")->status, 200);
    }
    return token;
  }

  static httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  // Answers the participant has stored, by the session's next position.
  int64_t NextPosition(const std::string& survey, const std::string& token) {
    auto session = http_->Get("/api/s/" + survey + "/session", Auth(token));
    return std::stoll(json::parse(session->body).value("nextPosition", std::string("0")));
  }

  std::string data_dir_;
  int port_ = 0;
  std::unique_ptr<services::DreamshotServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<httplib::Client> http_;
};

// Item 1: the stored PNGs name their model and LoRA; what a participant
// receives may differ between the two sides in the IDAT pixel data alone.
TEST_F(SurveySecurityTest, ServedPicturesAndResponsesNameNoSystem) {
  std::set<std::string> secrets;
  const int64_t run = GenerateTwoSystemPairs(&secrets);
  ASSERT_GT(run, 0);
  ASSERT_GT(secrets.size(), 8u) << "the stored parameters carry hashes";
  CreateAndOpen("blind", run, 3);

  std::vector<std::string> responses;  // every header and body a participant receives
  auto keep = [&](const httplib::Result& r) {
    EXPECT_TRUE(r);
    if (!r) return;
    std::string all = r->body;
    for (const auto& [name, value] : r->headers) absl::StrAppend(&all, "\n", name, ": ", value);
    responses.push_back(all);
  };
  keep(http_->Get("/s/blind"));
  keep(http_->Get("/static/app.js"));
  keep(http_->Get("/api/s/blind/info"));
  auto joined = http_->Post("/api/s/blind/join", "", "application/json");
  keep(joined);
  const std::string token = json::parse(joined->body).at("token");
  keep(http_->Post("/api/s/blind/consent", Auth(token), "", "application/json"));
  keep(http_->Get("/api/s/blind/session", Auth(token)));
  for (int position = 0; position < 3; ++position) {
    auto pair = http_->Get("/api/s/blind/pairs/" + std::to_string(position), Auth(token));
    keep(pair);
    const json p = json::parse(pair->body);
    auto a = http_->Get(p.at("imageA").get<std::string>(), Auth(token));
    auto b = http_->Get(p.at("imageB").get<std::string>(), Auth(token));
    keep(a);
    keep(b);
    ASSERT_EQ(a->status, 200);
    ASSERT_EQ(b->status, 200);
    EXPECT_EQ(p.at("imageA").get<std::string>(), "/api/s/blind/pairs/" + std::to_string(position) + "/image/A");
    // The same headers but for the length.
    httplib::Headers ha = a->headers, hb = b->headers;
    ha.erase("Content-Length");
    hb.erase("Content-Length");
    EXPECT_EQ(ha, hb);
    EXPECT_EQ(a->headers.count("ETag") + a->headers.count("Last-Modified"), 0u);
    EXPECT_EQ(a->headers.count("Cache-Control"), 1u) << "one Cache-Control header";
    // The same chunks (IHDR, IDAT..., IEND) with the same IHDR: only
    // IDAT's data differs.
    const auto ca = Chunks(a->body), cb = Chunks(b->body);
    ASSERT_EQ(ca.size(), cb.size());
    ASSERT_EQ(a->body.substr(0, 8), b->body.substr(0, 8));
    for (size_t i = 0; i < ca.size(); ++i) {
      EXPECT_EQ(ca[i].first, cb[i].first);
      EXPECT_TRUE(ca[i].first == "IHDR" || ca[i].first == "IDAT" || ca[i].first == "IEND") << ca[i].first;
      if (ca[i].first != "IDAT") {
        EXPECT_EQ(ca[i].second, cb[i].second) << ca[i].first;
      }
    }
    EXPECT_NE(core::DecodePng(a->body)->pixels, core::DecodePng(b->body)->pixels) << "the LoRA changes the pixels";
    json answer = {{"position", position}, {"answers", {"A", "B", "neither"}}, {"idempotencyKey", "k"}};
    answer["idempotencyKey"] = "k" + std::to_string(position);
    keep(http_->Post("/api/s/blind/answers", Auth(token), answer.dump(), "application/json"));
  }
  for (const std::string& response : responses) {
    for (const std::string& secret : secrets) {
      EXPECT_EQ(response.find(secret), std::string::npos) << "'" << secret << "' served to a participant";
    }
  }
}

// Item 8: pictures are for participants who consented.
TEST_F(SurveySecurityTest, PicturesNeedConsent) {
  std::set<std::string> secrets;
  CreateAndOpen("consent", GenerateTwoSystemPairs(&secrets), 3);
  const std::string token = Join("consent", /*consent=*/false);
  auto image = http_->Get("/api/s/consent/pairs/0/image/A", Auth(token));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, 403);
  EXPECT_NE(image->body.find("consent"), std::string::npos) << image->body;
}

class SurveyBodyLimitTest : public SurveySecurityTest {
 protected:
  void SetUp() override {
    SurveySecurityTest::SetUp();
    std::set<std::string> secrets;
    CreateAndOpen("limits", GenerateTwoSystemPairs(&secrets), 3);
    token_ = Join("limits");
  }
  std::string AnswerHead(const std::string& framing, bool with_token = true) {
    return absl::StrCat("POST /api/s/limits/answers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
                        with_token ? "Authorization: Bearer " + token_ + "\r\n" : "", framing, "\r\n");
  }
  // A valid answer padded with spaces to `size` bytes.
  static std::string PaddedAnswer(size_t size) {
    std::string body = R"({"position": 0, "answers": ["A", "B", "neither"], "idempotencyKey": "pad"})";
    body.insert(1, std::string(size - body.size(), ' '));
    return body;
  }
  std::string token_;
};

// Item 2: a declared length over the limit is refused before the body is
// sent, and before the token is looked at.
TEST_F(SurveyBodyLimitTest, PlainBodyOverTheLimitIsRefusedBeforeItIsSent) {
  RawConnection c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(AnswerHead("Content-Length: 314572800\r\n", /*with_token=*/false)));
  const std::string response = c.Receive(2000);
  EXPECT_EQ(RawConnection::Status(response), 413) << response;
  EXPECT_NE(response.find(R"({"error":"request body too large)"), std::string::npos) << response;
}

TEST_F(SurveyBodyLimitTest, ChunkedBodyOverTheLimitIsRefusedAtTheChunkThatCrossesIt) {
  for (bool with_token : {false, true}) {
    RawConnection c(port_);
    ASSERT_TRUE(c.Send(AnswerHead("Transfer-Encoding: chunked\r\n", with_token)));
    // 300 MB announced in 1 MiB chunks: the first size line is enough.
    ASSERT_TRUE(c.Send("100000\r\n"));
    const std::string response = c.Receive(2000);
    EXPECT_EQ(RawConnection::Status(response), 413) << response;
    EXPECT_FALSE(c.Send(std::string(1 << 20, ' ')) && c.Send(std::string(1 << 20, ' ')))
        << "the server closed the connection";
  }
  // Small chunks that add up past 16 KiB.
  RawConnection c(port_);
  ASSERT_TRUE(c.Send(AnswerHead("Transfer-Encoding: chunked\r\n")));
  std::string chunks;
  for (int i = 0; i < 20; ++i) chunks += "400\r\n" + std::string(1024, ' ') + "\r\n";
  c.Send(chunks);
  EXPECT_EQ(RawConnection::Status(c.Receive(2000)), 413);
}

TEST_F(SurveyBodyLimitTest, AValidAnswerPaddedPastTheLimitIsStoredInNeitherEncoding) {
  const std::string body = PaddedAnswer(1 << 20);
  {
    RawConnection c(port_);
    c.Send(AnswerHead(absl::StrCat("Content-Length: ", body.size(), "\r\n")) + body);
    EXPECT_EQ(RawConnection::Status(c.Receive(2000)), 413);
  }
  {
    RawConnection c(port_);
    c.Send(AnswerHead("Transfer-Encoding: chunked\r\n") + absl::StrCat(absl::Hex(body.size()), "\r\n") + body +
           "\r\n0\r\n\r\n");
    EXPECT_EQ(RawConnection::Status(c.Receive(2000)), 413);
  }
  EXPECT_EQ(NextPosition("limits", token_), 0) << "nothing stored";
  // Under the limit, chunked is accepted and stored.
  const std::string small = PaddedAnswer(4000);
  RawConnection c(port_);
  c.Send(AnswerHead("Transfer-Encoding: chunked\r\nConnection: close\r\n") + "10\r\n" + small.substr(0, 16) +
         "\r\n" + absl::StrCat(absl::Hex(small.size() - 16)) + "\r\n" + small.substr(16) + "\r\n0\r\n\r\n");
  const std::string response = c.Receive(2000);
  EXPECT_EQ(RawConnection::Status(response), 200) << response;
  EXPECT_EQ(NextPosition("limits", token_), 1);
}

TEST_F(SurveyBodyLimitTest, CompressedBodiesAreRefused) {
  RawConnection c(port_);
  c.Send(AnswerHead("Content-Encoding: gzip\r\nContent-Length: 10\r\n") + std::string(10, 'x'));
  const std::string response = c.Receive(2000);
  EXPECT_EQ(RawConnection::Status(response), 415) << response;
}

TEST_F(SurveyBodyLimitTest, ExpectContinueIsAnsweredAndTheBodyThenRead) {
  const std::string body = PaddedAnswer(200);
  RawConnection c(port_);
  c.Send(AnswerHead(absl::StrCat("Expect: 100-continue\r\nContent-Length: ", body.size(), "\r\n")));
  const std::string proceed = c.Receive(500);
  EXPECT_EQ(proceed, "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send(body);
  const std::string response = c.Receive(1000);
  EXPECT_EQ(RawConnection::Status(response), 200) << response;
}

class SurveySlowClientTest : public SurveySecurityTest {
 protected:
  void Configure(services::ServerOptions& o) override {
    o.survey_web.connections.request_timeout_ms = 3000;
    o.survey_web.connections.max_connections_per_address = 250;
  }
};

// Item 3: 200 connections trickling a header line each second hold no
// worker: a participant completes a pair meanwhile, within 2 s, and the
// trickling connections are cut at the request deadline with 408.
TEST_F(SurveySlowClientTest, SlowConnectionsLockNobodyOut) {
  std::set<std::string> secrets;
  CreateAndOpen("slow", GenerateTwoSystemPairs(&secrets), 3);
  const std::string token = Join("slow");
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(slow.back()->connected()) << i;
    slow.back()->Send("GET /api/s/slow/info HTTP/1.1\r\n");
  }
  for (int second = 0; second < 2; ++second) {
    for (auto& c : slow) c->Send("X-Trickle: " + std::to_string(second) + "\r\n");
    const auto start = std::chrono::steady_clock::now();
    httplib::Client client("127.0.0.1", port_);
    auto pair = client.Get("/api/s/slow/pairs/" + std::to_string(second), Auth(token));
    ASSERT_TRUE(pair);
    ASSERT_EQ(pair->status, 200) << pair->body;
    const json p = json::parse(pair->body);
    ASSERT_EQ(client.Get(p.at("imageA").get<std::string>(), Auth(token))->status, 200);
    ASSERT_EQ(client.Get(p.at("imageB").get<std::string>(), Auth(token))->status, 200);
    json answer = {{"position", second}, {"answers", {"A", "B", "neither"}}};
    answer["idempotencyKey"] = "k" + std::to_string(second);
    ASSERT_EQ(client.Post("/api/s/slow/answers", Auth(token), answer.dump(), "application/json")->status, 200);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 2.0) << "a pair took " << seconds << " s with 200 slow connections open";
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  // Past the 3 s request deadline every slow connection was answered 408
  // and closed.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  int timed_out = 0;
  for (auto& c : slow) timed_out += RawConnection::Status(c->Receive(50)) == 408;
  EXPECT_EQ(timed_out, 200);
  EXPECT_GE(server_->survey_counters().timed_out, 200);
}

class SurveyConnectionLimitTest : public SurveySecurityTest {
 protected:
  void Configure(services::ServerOptions& o) override { o.survey_web.connections.max_connections_per_address = 5; }
};

TEST_F(SurveyConnectionLimitTest, OneAddressCannotHoldEveryConnection) {
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 5; ++i) held.push_back(std::make_unique<RawConnection>(port_, "127.0.0.2"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RawConnection sixth(port_, "127.0.0.2");
  const std::string refused = sixth.Receive(1000);
  EXPECT_EQ(RawConnection::Status(refused), 503) << refused;
  // Another address is served.
  auto page = http_->Get("/s/anything");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_GE(server_->survey_counters().refused_connections, 1);
}

}  // namespace
}  // namespace dreamshot

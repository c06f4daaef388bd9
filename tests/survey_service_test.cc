// A survey end to end through its public interfaces: SurveyService over
// gRPC for the researcher, the participant JSON API over HTTP (as the page
// uses it), with the bad inputs a public page gets.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/png.h"
#include "dreamshot/v1/survey.grpc.pb.h"
#include "experiments/store.h"
#include "experiments/store_set.h"
#include "tests/service_test_util.h"
#include "tests/survey_test_pairs.h"

namespace dreamshot {
namespace {

using nlohmann::json;

// The data rows of an answers CSV, split on commas (the test's prompts and
// labels hold none, so no field is quoted).
std::vector<std::vector<std::string>> CsvRows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    rows.push_back(std::move(fields));
  }
  return rows;
}

class SurveyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("survey");
    server_ = testing::StartServer(data_dir_, "", [this](services::ServerOptions& o) {
      o.survey_listen = "127.0.0.1:0";
      ConfigureServer(o);
    });
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(server_->survey_port(), 0);
    surveys_ = v1::SurveyService::NewStub(testing::ChannelTo(*server_));
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->survey_port());

    // Six A/B pairs (two per shot type) of small PNGs, as `dreamshot pairs` stores them.
    auto store = experiments::ExperimentStore::Open(server_->store_path());
    ASSERT_TRUE(store.ok()) << store.status();
    auto pairs = testing::StoreTestPairs(experiments::StoreSet(store->get()).all(), data_dir_ + "/artifacts", 6, 8);
    ASSERT_TRUE(pairs.ok()) << pairs.status();
    run_id_ = pairs->run_id;
    png_of_artifact_ = pairs->png_of_artifact;
  }

  // Public defaults (rate limits included) unless a test says otherwise.
  virtual void ConfigureServer(services::ServerOptions& /*options*/) {}

  grpc::Status Create(const std::string& name, int per_participant, int attention, v1::Survey* out) {
    grpc::ClientContext context;
    v1::CreateSurveyRequest request;
    request.set_name(name);
    request.add_pair_runs(run_id_);
    request.mutable_config()->set_pairs_per_participant(per_participant);
    request.mutable_config()->set_attention_checks(attention);
    return surveys_->CreateSurvey(&context, request, out);
  }

  grpc::Status Open(const std::string& name, bool open = true) {
    grpc::ClientContext context;
    v1::SurveyRef ref;
    ref.set_survey(name);
    v1::Survey out;
    return open ? surveys_->OpenSurvey(&context, ref, &out) : surveys_->CloseSurvey(&context, ref, &out);
  }

  httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  std::string data_dir_;
  int64_t run_id_ = 0;
  std::map<int64_t, std::string> png_of_artifact_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::SurveyService::Stub> surveys_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(SurveyServiceTest, AParticipantCompletesASurveyAndTheAnswersAreExported) {
  v1::Survey survey;
  ASSERT_TRUE(Create("lighthouse", 3, 1, &survey).ok());
  EXPECT_EQ(survey.status(), "draft");
  EXPECT_EQ(survey.url_path(), "/s/lighthouse");
  EXPECT_EQ(survey.config().questions_size(), 3);
  auto page = http_->Get("/s/lighthouse");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/static/app.js"), std::string::npos);
  EXPECT_EQ(http_->Get("/api/s/lighthouse/info")->status, 410) << "a draft takes nobody";
  ASSERT_TRUE(Open("lighthouse").ok());

  auto joined = http_->Post("/api/s/lighthouse/join", "", "application/json");
  ASSERT_TRUE(joined);
  ASSERT_EQ(joined->status, 200) << joined->body;
  const std::string token = json::parse(joined->body).at("token");
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(joined->get_header_value("Set-Cookie").find("HttpOnly"), std::string::npos);

  auto session = http_->Get("/api/s/lighthouse/session", Auth(token));
  ASSERT_EQ(session->status, 200) << session->body;
  json s = json::parse(session->body);
  EXPECT_EQ(s.at("total"), "4");  // 3 pairs + 1 attention check (int64 is a JSON string)
  EXPECT_FALSE(s.value("consented", false));
  EXPECT_EQ(http_->Get("/api/s/lighthouse/pairs/0", Auth(token))->status, 403) << "consent first";
  ASSERT_EQ(http_->Post("/api/s/lighthouse/consent", Auth(token), "", "application/json")->status, 200);

  std::set<std::string> types;
  for (int position = 0; position < 4; ++position) {
    auto pair = http_->Get("/api/s/lighthouse/pairs/" + std::to_string(position), Auth(token));
    ASSERT_EQ(pair->status, 200) << pair->body;
    json p = json::parse(pair->body);
    EXPECT_EQ(p.at("position"), std::to_string(position)) << "position 0 must be sent too";
    EXPECT_EQ(p.dump().find("base"), std::string::npos) << "system labels never reach the page";
    EXPECT_EQ(p.dump().find("lora"), std::string::npos);
    types.insert(p.value("shotType", ""));
    auto image = http_->Get(p.at("imageA").get<std::string>(), Auth(token));
    ASSERT_EQ(image->status, 200);
    EXPECT_EQ(image->get_header_value("Content-Type"), "image/png");
    // Served re-encoded (blind): the pixels are one stored picture's.
    bool known = false;
    auto served = core::DecodePng(image->body);
    ASSERT_TRUE(served.ok()) << served.status();
    for (const auto& [id, png] : png_of_artifact_) known = known || core::DecodePng(png)->pixels == served->pixels;
    EXPECT_TRUE(known);
    json answer = {{"position", position},
                   {"answers", {"A", "B", "neither"}},
                   {"idempotencyKey", "k" + std::to_string(position)},
                   {"elapsedMs", 1500}};
    auto saved = http_->Post("/api/s/lighthouse/answers", Auth(token), answer.dump(), "application/json");
    ASSERT_EQ(saved->status, 200) << saved->body;
    EXPECT_FALSE(json::parse(saved->body).value("replayed", false));
    // The same submission again (a retry after a lost response) stores nothing.
    auto replay = http_->Post("/api/s/lighthouse/answers", Auth(token), answer.dump(), "application/json");
    ASSERT_EQ(replay->status, 200);
    EXPECT_TRUE(json::parse(replay->body).value("replayed", false));
    // Different answers for an answered pair are refused.
    answer["answers"] = {"B", "B", "B"};
    answer["idempotencyKey"] = "other";
    EXPECT_EQ(http_->Post("/api/s/lighthouse/answers", Auth(token), answer.dump(), "application/json")->status, 409);
  }
  EXPECT_EQ(types.size(), 3u) << "3 pairs, balanced over close, medium and long";
  session = http_->Get("/api/s/lighthouse/session", Auth(token));
  EXPECT_TRUE(json::parse(session->body).value("finished", false));

  grpc::ClientContext status_context;
  v1::SurveyRef ref;
  ref.set_survey("lighthouse");
  v1::SurveyStatus status;
  ASSERT_TRUE(surveys_->GetSurveyStatus(&status_context, ref, &status).ok());
  EXPECT_EQ(status.participants(), 1);
  EXPECT_EQ(status.finished(), 1);
  EXPECT_EQ(status.answered_pairs(), 4);
  EXPECT_EQ(status.items(), 6);
  EXPECT_EQ(status.attention_items(), 3);

  grpc::ClientContext export_context;
  v1::ExportSurveyRequest export_request;
  export_request.set_survey("lighthouse");
  v1::ExportSurveyResponse exported;
  ASSERT_TRUE(surveys_->ExportSurvey(&export_context, export_request, &exported).ok());
  EXPECT_EQ(exported.answers(), 12);
  // "A" means system x unless the sides were swapped for this participant and pair.
  int checked = 0;
  for (const std::vector<std::string>& f : CsvRows(exported.csv())) {
    ASSERT_GE(f.size(), 16u);
    const std::string shown = f[8], swapped = f[9], choice = f[10];
    if (shown == "A") EXPECT_EQ(choice, swapped == "1" ? "y" : "x") << f[2];
    if (shown == "B") EXPECT_EQ(choice, swapped == "1" ? "x" : "y") << f[2];
    if (shown == "neither") EXPECT_EQ(choice, "neither");
    ++checked;
  }
  EXPECT_EQ(checked, 12);

  ASSERT_TRUE(Open("lighthouse", /*open=*/false).ok());
  EXPECT_EQ(http_->Get("/api/s/lighthouse/session", Auth(token))->status, 410) << "a closed survey's tokens expire";
  EXPECT_EQ(http_->Post("/api/s/lighthouse/join", "", "application/json")->status, 410);
}

TEST_F(SurveyServiceTest, BadRequestsGetTheRightStatusAndStoreNothing) {
  v1::Survey survey;
  ASSERT_TRUE(Create("bad-input", 3, 0, &survey).ok());
  ASSERT_TRUE(Open("bad-input").ok());
  auto joined = http_->Post("/api/s/bad-input/join", "", "application/json");
  ASSERT_EQ(joined->status, 200);
  const std::string token = json::parse(joined->body).at("token");
  ASSERT_EQ(http_->Post("/api/s/bad-input/consent", Auth(token), "", "application/json")->status, 200);
  auto post = [&](const std::string& body, const std::string& with_token) {
    return http_->Post("/api/s/bad-input/answers", Auth(with_token), body, "application/json")->status;
  };
  EXPECT_EQ(post(R"({"position": 0, "answers": ["A", "B", "neither"], "idempotencyKey": "x"})", std::string(64, 'f')),
            401)
      << "unknown token";
  EXPECT_EQ(post(R"({"position": 0, "answers": ["A"]})", "not-a-token"), 401);
  EXPECT_EQ(post("{not json", token), 400);
  EXPECT_EQ(post(R"({"position": 0, "answers": ["A", "C", "neither"], "idempotencyKey": "x"})", token), 400);
  EXPECT_EQ(post(R"({"position": 0, "answers": ["A", "B"], "idempotencyKey": "x"})", token), 400);
  EXPECT_EQ(post(R"({"position": 0, "answers": ["A", "B", "neither"], "idempotencyKey": ""})", token), 400);
  EXPECT_EQ(post(R"({"position": 7, "answers": ["A", "B", "neither"], "idempotencyKey": "x"})", token), 404)
      << "a pair not assigned";
  EXPECT_EQ(post(std::string(20000, ' ') + "{}", token), 413);
  EXPECT_EQ(http_->Get("/api/s/nope/info")->status, 404);
  EXPECT_EQ(http_->Get("/api/s/bad-input/session", Auth(token))->status, 200);
  // Another survey's page does not accept this token.
  ASSERT_TRUE(Create("other", 3, 0, &survey).ok());
  ASSERT_TRUE(Open("other").ok());
  EXPECT_EQ(http_->Get("/api/s/other/session", Auth(token))->status, 401);

  grpc::ClientContext context;
  v1::ExportSurveyRequest request;
  request.set_survey("bad-input");
  v1::ExportSurveyResponse exported;
  ASSERT_TRUE(surveys_->ExportSurvey(&context, request, &exported).ok());
  EXPECT_EQ(exported.answers(), 0);
}

TEST_F(SurveyServiceTest, OneAddressIsRateLimited) {
  v1::Survey survey;
  ASSERT_TRUE(Create("limited", 3, 0, &survey).ok());
  ASSERT_TRUE(Open("limited").ok());
  int ok = 0, limited = 0;
  std::string body;
  for (int i = 0; i < 100; ++i) {
    auto info = http_->Get("/api/s/limited/info");
    ASSERT_TRUE(info);
    if (info->status == 200) ++ok;
    if (info->status == 429) {
      ++limited;
      body = info->body;
      EXPECT_EQ(info->get_header_value("Retry-After"), "1") << "30/s: the next request may come in a second";
    }
  }
  EXPECT_GE(ok, 60) << "the burst is served";
  EXPECT_GT(limited, 0);
  EXPECT_NE(body.find("too many requests"), std::string::npos) << body;
}

class SurveyJoinLimitTest : public SurveyServiceTest {
 protected:
  void ConfigureServer(services::ServerOptions& options) override { options.survey_web.requests_per_s = 0; }
};

TEST_F(SurveyJoinLimitTest, NewParticipantsFromOneAddressAreRateLimited) {
  v1::Survey survey;
  ASSERT_TRUE(Create("joins", 3, 0, &survey).ok());
  ASSERT_TRUE(Open("joins").ok());
  int joined = 0, refused = 0;
  std::string body;
  for (int i = 0; i < 25; ++i) {
    auto response = http_->Post("/api/s/joins/join", "", "application/json");
    ASSERT_TRUE(response);
    if (response->status == 200) ++joined;
    if (response->status == 429) {
      ++refused;
      body = response->body;
      EXPECT_EQ(response->get_header_value("Retry-After"), "3") << "20 a minute: a new one every 3 s";
    }
  }
  EXPECT_GE(joined, 20) << "20 a minute, as a burst";
  EXPECT_GT(refused, 0);
  EXPECT_NE(body.find("too many new participants"), std::string::npos) << body;
}

TEST_F(SurveyServiceTest, CreateRefusesBadDefinitions) {
  v1::Survey survey;
  EXPECT_EQ(Create("has space", 3, 0, &survey).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("zero", 0, 0, &survey).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A number names a survey's id (`survey open 2`): never a name.
  grpc::Status numeric = Create("2", 3, 0, &survey);
  EXPECT_EQ(numeric.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(numeric.error_message().find("all digits"), std::string::npos) << numeric.error_message();
  // More pairs per participant than the pool's 6, asked for explicitly.
  grpc::Status too_many = Create("too-many", 36, 0, &survey);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(too_many.error_message().find("pairs_per_participant is 36"), std::string::npos)
      << too_many.error_message();
  EXPECT_NE(too_many.error_message().find("only 6 pairs"), std::string::npos) << too_many.error_message();
  ASSERT_TRUE(Create("taken", 3, 0, &survey).ok());
  EXPECT_EQ(Create("taken", 3, 0, &survey).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  grpc::ClientContext context;
  v1::CreateSurveyRequest no_pairs;
  no_pairs.set_name("empty");
  EXPECT_EQ(surveys_->CreateSurvey(&context, no_pairs, &survey).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext missing_context;
  v1::CreateSurveyRequest missing;
  missing.set_name("missing");
  missing.add_pair_ids(9999);
  EXPECT_EQ(surveys_->CreateSurvey(&missing_context, missing, &survey).error_code(), grpc::StatusCode::NOT_FOUND);
}

// What `survey create` asks for is what is stored and what participants
// get: the pairs per participant (the whole pool when allowed or left
// unset), the questions and answer labels; the response says where the
// participant page is.
TEST_F(SurveyServiceTest, CreateStoresWhatParticipantsGetAndTheRealPageAddress) {
  grpc::ClientContext fewer_context;
  v1::CreateSurveyRequest fewer;
  fewer.set_name("fewer");
  fewer.add_pair_runs(run_id_);
  fewer.mutable_config()->set_pairs_per_participant(36);
  fewer.set_allow_fewer_pairs(true);
  v1::Survey created;
  ASSERT_TRUE(surveys_->CreateSurvey(&fewer_context, fewer, &created).ok());
  EXPECT_EQ(created.config().pairs_per_participant(), 6);
  const std::string page = "http://127.0.0.1:" + std::to_string(server_->survey_port()) + "/s/fewer";
  EXPECT_EQ(created.participant_url(), page);

  grpc::ClientContext custom_context;
  v1::CreateSurveyRequest custom;
  custom.set_name("custom");
  custom.add_pair_runs(run_id_);  // pairs_per_participant unset: the default 36 adapts to the pool
  v1::SurveyQuestion* q = custom.mutable_config()->add_questions();
  q->set_key("sharper");
  q->set_text("Which picture is sharper?");
  q = custom.mutable_config()->add_questions();
  q->set_key("framing");
  q->set_text("Which is framed as a close-up?");
  custom.mutable_config()->set_option_a("Left");
  custom.mutable_config()->set_option_b("Right");
  custom.mutable_config()->set_option_neither("Can't tell");
  ASSERT_TRUE(surveys_->CreateSurvey(&custom_context, custom, &created).ok());
  EXPECT_EQ(created.config().pairs_per_participant(), 6);
  ASSERT_EQ(created.config().questions_size(), 2);
  EXPECT_EQ(created.config().questions(1).key(), "framing");

  grpc::ClientContext list_context;
  v1::ListSurveysResponse listed;
  ASSERT_TRUE(surveys_->ListSurveys(&list_context, v1::ListSurveysRequest(), &listed).ok());
  std::map<std::string, int> per_participant;
  for (const v1::Survey& s : listed.surveys()) {
    per_participant[s.name()] = s.config().pairs_per_participant();
    EXPECT_EQ(s.participant_url(), "http://127.0.0.1:" + std::to_string(server_->survey_port()) + s.url_path());
  }
  EXPECT_EQ(per_participant, (std::map<std::string, int>{{"custom", 6}, {"fewer", 6}}));

  // The page at the reported address exists, and asks the custom questions.
  httplib::Client at_url("127.0.0.1", server_->survey_port());
  auto got = at_url.Get(page.substr(page.find("/s/")));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  ASSERT_TRUE(Open("custom").ok());
  auto joined = http_->Post("/api/s/custom/join", "", "application/json");
  ASSERT_EQ(joined->status, 200) << joined->body;
  const std::string token = json::parse(joined->body).at("token");
  auto session = http_->Get("/api/s/custom/session", Auth(token));
  ASSERT_EQ(session->status, 200) << session->body;
  json s = json::parse(session->body);
  EXPECT_EQ(s.at("total"), "6");
  ASSERT_EQ(s.at("questions").size(), 2u);
  EXPECT_EQ(s.at("questions")[0].at("text"), "Which picture is sharper?");
  EXPECT_EQ(s.at("optionA"), "Left");
  EXPECT_EQ(s.at("optionB"), "Right");
  EXPECT_EQ(s.at("optionNeither"), "Can't tell");
}

TEST(SurveyServiceWithoutPagesTest, TheParticipantUrlIsEmptyWhenNoPagesAreServed) {
  const std::string dir = testing::FreshDataDir("survey-no-pages");
  auto server = testing::StartServer(dir);  // no survey_listen
  ASSERT_NE(server, nullptr);
  auto store = experiments::ExperimentStore::Open(server->store_path());
  ASSERT_TRUE(store.ok()) << store.status();
  auto pairs = testing::StoreTestPairs(experiments::StoreSet(store->get()).all(), dir + "/artifacts", 2, 8);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  auto surveys = v1::SurveyService::NewStub(testing::ChannelTo(*server));
  grpc::ClientContext context;
  v1::CreateSurveyRequest request;
  request.set_name("offline");
  request.add_pair_runs(pairs->run_id);
  v1::Survey created;
  ASSERT_TRUE(surveys->CreateSurvey(&context, request, &created).ok());
  EXPECT_EQ(created.participant_url(), "");
  EXPECT_EQ(created.url_path(), "/s/offline");
  EXPECT_EQ(created.config().pairs_per_participant(), 2);
}

// Four participants through the page's API: three careful (they answer
// "neither" when both images are the same, the attention check), one
// careless (always "A"). The results must leave the careless one out and
// agree with the raw answers of the CSV export, counted here independently.
class SurveyResultsTest : public SurveyServiceTest {
 protected:
  // Four participants from one address exceed the public burst.
  void ConfigureServer(services::ServerOptions& options) override {
    options.survey_web.requests_per_s = 0;
    options.survey_web.joins_per_minute = 0;
  }
};

TEST_F(SurveyResultsTest, ResultsAgreeWithTheRawAnswersAndLeaveOutFailedAttentionChecks) {
  v1::Survey survey;
  ASSERT_TRUE(Create("results", 3, 1, &survey).ok());
  ASSERT_TRUE(Open("results").ok());
  for (int participant = 0; participant < 4; ++participant) {
    const bool careful = participant < 3;
    auto joined = http_->Post("/api/s/results/join", "", "application/json");
    ASSERT_EQ(joined->status, 200) << joined->body;
    const std::string token = json::parse(joined->body).at("token");
    ASSERT_EQ(http_->Post("/api/s/results/consent", Auth(token), "", "application/json")->status, 200);
    for (int position = 0; position < 4; ++position) {
      json p = json::parse(http_->Get("/api/s/results/pairs/" + std::to_string(position), Auth(token))->body);
      const bool same = http_->Get(p.at("imageA").get<std::string>(), Auth(token))->body ==
                        http_->Get(p.at("imageB").get<std::string>(), Auth(token))->body;
      json answers =
          careful && same ? json{"neither", "neither", "neither"} : json{"A", participant % 2 ? "B" : "A", "neither"};
      json answer = {{"position", position},
                     {"answers", answers},
                     {"idempotencyKey", "k" + std::to_string(position)},
                     {"elapsedMs", 1000 * (participant + 1)}};
      ASSERT_EQ(http_->Post("/api/s/results/answers", Auth(token), answer.dump(), "application/json")->status, 200);
    }
  }

  // Expected counts, per question, from the CSV of participants 0-2.
  grpc::ClientContext export_context;
  v1::ExportSurveyRequest export_request;
  export_request.set_survey("results");
  v1::ExportSurveyResponse exported;
  ASSERT_TRUE(surveys_->ExportSurvey(&export_context, export_request, &exported).ok());
  std::map<std::string, std::map<std::string, int>> expected;  // question → choice → answers
  for (const std::vector<std::string>& f : CsvRows(exported.csv())) {
    ASSERT_GE(f.size(), 16u);
    if (f[0] == "3" || f[4] == "1") continue;  // the careless participant; attention checks
    ++expected[f[7]][f[10]];
  }

  grpc::ClientContext context;
  v1::SurveyResultsRequest request;
  request.set_survey("results");
  request.set_resamples(500);
  request.set_format("markdown");
  v1::SurveyResults results;
  grpc::Status status = surveys_->GetSurveyResults(&context, request, &results);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(results.participants_joined(), 4);
  EXPECT_EQ(results.participants_included(), 3);
  EXPECT_EQ(results.excluded_attention(), 1);
  ASSERT_EQ(results.attention_size(), 4);
  EXPECT_TRUE(results.attention(3).excluded());
  EXPECT_EQ(results.attention(3).failed(), 1);
  EXPECT_DOUBLE_EQ(results.median_seconds_per_pair(), 2.0);
  int overall_rows = 0;
  for (const v1::SurveyShareRow& row : results.rows()) {
    EXPECT_EQ(row.system_x(), "base");
    EXPECT_EQ(row.system_y(), "lora");
    if (!row.shot_type().empty()) continue;
    ++overall_rows;
    EXPECT_EQ(row.answers(), 9) << row.question();
    EXPECT_EQ(row.x().count(), expected[row.question()]["x"]) << row.question();
    EXPECT_EQ(row.y().count(), expected[row.question()]["y"]) << row.question();
    EXPECT_EQ(row.neither().count(), expected[row.question()]["neither"]) << row.question();
    EXPECT_LE(row.x().bootstrap().low(), row.x().share());
    EXPECT_GE(row.x().bootstrap().high(), row.x().share());
  }
  EXPECT_EQ(overall_rows, 3);
  EXPECT_NE(results.rendered().find("## base vs lora"), std::string::npos) << results.rendered();
  EXPECT_NE(results.rendered().find("| prompt | all | 9 | 3 | 0.0% "), std::string::npos) << results.rendered();

  auto refused = [&](v1::SurveyResultsRequest bad) {
    grpc::ClientContext c;
    v1::SurveyResults r;
    return surveys_->GetSurveyResults(&c, bad, &r).error_code();
  };
  v1::SurveyResultsRequest bad = request;
  bad.set_format("pdf");
  EXPECT_EQ(refused(bad), grpc::StatusCode::INVALID_ARGUMENT);
  bad = request;
  bad.set_level(1.5);
  EXPECT_EQ(refused(bad), grpc::StatusCode::INVALID_ARGUMENT);
  bad = request;
  bad.set_resamples(10000000);
  EXPECT_EQ(refused(bad), grpc::StatusCode::INVALID_ARGUMENT);
  bad = request;
  bad.set_survey("nope");
  EXPECT_EQ(refused(bad), grpc::StatusCode::NOT_FOUND);
}

// Broken-image attention checks: an intact picture against a scrambled copy.
// A participant who prefers the intact one (here: the side whose bytes are
// one of the stored pictures) passes; one who picks the broken one is left
// out of the results.
TEST_F(SurveyResultsTest, BrokenImageChecksCatchParticipantsWhoPickTheBrokenPicture) {
  grpc::ClientContext create_context;
  v1::CreateSurveyRequest create;
  create.set_name("broken");
  create.add_pair_runs(run_id_);
  create.mutable_config()->set_pairs_per_participant(2);
  create.mutable_config()->set_attention_checks(1);
  create.mutable_config()->set_attention_style("broken");
  v1::Survey survey;
  grpc::Status created = surveys_->CreateSurvey(&create_context, create, &survey);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(survey.config().attention_style(), "broken");
  ASSERT_TRUE(Open("broken").ok());
  int broken_pairs_seen = 0;
  for (int participant = 0; participant < 2; ++participant) {
    auto joined = http_->Post("/api/s/broken/join", "", "application/json");
    const std::string token = json::parse(joined->body).at("token");
    ASSERT_EQ(http_->Post("/api/s/broken/consent", Auth(token), "", "application/json")->status, 200);
    for (int position = 0; position < 3; ++position) {
      json p = json::parse(http_->Get("/api/s/broken/pairs/" + std::to_string(position), Auth(token))->body);
      const std::string a = http_->Get(p.at("imageA").get<std::string>(), Auth(token))->body;
      const std::string b = http_->Get(p.at("imageB").get<std::string>(), Auth(token))->body;
      auto stored = [&](const std::string& png) {  // served re-encoded: compare pixels
        for (const auto& [id, original] : png_of_artifact_) {
          if (core::DecodePng(original)->pixels == core::DecodePng(png)->pixels) return true;
        }
        return false;
      };
      std::string pick = "A";
      if (!stored(a) || !stored(b)) {
        ++broken_pairs_seen;
        ASSERT_NE(a, b);
        ASSERT_TRUE(stored(a) || stored(b)) << "one side is the intact picture";
        auto decoded = core::DecodePng(stored(a) ? b : a);
        ASSERT_TRUE(decoded.ok()) << "the broken side is a real PNG";
        EXPECT_EQ(decoded->width, 8);
        const bool careful = participant == 0;
        pick = (stored(a) == careful) ? "A" : "B";
      }
      json answer = {{"position", position},
                     {"answers", {pick, pick, pick}},
                     {"idempotencyKey", "k" + std::to_string(position)},
                     {"elapsedMs", 1000}};
      ASSERT_EQ(http_->Post("/api/s/broken/answers", Auth(token), answer.dump(), "application/json")->status, 200);
    }
  }
  EXPECT_EQ(broken_pairs_seen, 2) << "one broken-image check per participant";

  grpc::ClientContext context;
  v1::SurveyResultsRequest request;
  request.set_survey("broken");
  request.set_resamples(100);
  v1::SurveyResults results;
  ASSERT_TRUE(surveys_->GetSurveyResults(&context, request, &results).ok());
  ASSERT_EQ(results.attention_size(), 2);
  EXPECT_EQ(results.attention(0).failed(), 0);
  EXPECT_EQ(results.attention(1).failed(), 1);
  EXPECT_EQ(results.participants_included(), 1);
  for (const v1::SurveyShareRow& row : results.rows()) {
    EXPECT_NE(row.system_y(), "broken") << "attention checks never enter the shares";
  }

  grpc::ClientContext bad_context;
  create.set_name("bad-style");
  create.mutable_config()->set_attention_style("blurry");
  EXPECT_EQ(surveys_->CreateSurvey(&bad_context, create, &survey).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace dreamshot

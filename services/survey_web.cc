#include "services/survey_web.h"

#include <glog/logging.h>
#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dreamshot/v1/survey.pb.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/survey_store.h"
#include "services/http_front.h"
#include "services/rate_limiter.h"
#include "services/survey_convert.h"
#include "services/survey_web_http.h"
#include "survey/blind_image.h"
#include "survey/participant_session.h"
#include "survey/web_assets.h"

namespace dreamshot::services {

using httplib::Request;
using httplib::Response;
using survey_http::SetError;
using survey_http::SetJson;

namespace {

constexpr char kSurveyName[] = R"(([A-Za-z0-9._-]{1,100}))";

// The page and its files, compiled in (survey/web_assets.h).
void Page(const Request&, Response& res) { res.set_content(survey::kIndexHtml, "text/html; charset=utf-8"); }
void AppJs(const Request&, Response& res) { res.set_content(survey::kAppJs, "text/javascript; charset=utf-8"); }
void StyleCss(const Request&, Response& res) { res.set_content(survey::kStyleCss, "text/css; charset=utf-8"); }

// Whatever no route answered, as JSON. Sizes, framing and timeouts are
// answered by the front before a request gets here (services/http_front.h).
void NoRoute(const Request&, Response& res) {
  if (!res.body.empty()) return;  // a handler's own JSON error
  const int code = res.status;
  SetError(res, code == 404   ? absl::NotFoundError("no such page")
                : code == 405 ? absl::InvalidArgumentError("method not allowed here")
                              : absl::InvalidArgumentError(absl::StrCat("bad request (HTTP ", code, ")")));
  res.status = code;
}

// Says nothing of what went wrong: the page has no use for it.
void Unexpected(const Request&, Response& res, std::exception_ptr) {
  SetError(res, absl::InternalError("unexpected error"));
}

absl::StatusOr<survey::Submission> SubmissionOf(const std::string& body) {
  v1::AnswerRequest request;
  const auto parsed = google::protobuf::util::JsonStringToMessage(body, &request);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed answer JSON: ", parsed.message().ToString()));
  }
  survey::Submission submission;
  submission.position = request.position();
  submission.answers.assign(request.answers().begin(), request.answers().end());
  submission.idempotency_key = request.idempotency_key();
  submission.elapsed_ms = request.elapsed_ms();
  return submission;
}

absl::StatusOr<std::string> ReadArtifactBytes(experiments::ArtifactStore& artifacts, int64_t artifact_id) {
  ASSIGN_OR_RETURN(const experiments::Artifact artifact, artifacts.GetArtifact(artifact_id));
  return experiments::ReadBlobUri(artifact.uri);
}

void SetToken(Response& res, const std::string& token) {
  v1::JoinResponse out;
  out.set_token(token);
  SetJson(res, out);
}

void SetSession(Response& res, const survey::ParticipantSession& session) {
  v1::ParticipantSession out;
  ToProto(session, &out);
  SetJson(res, out);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SurveyWebServer>> SurveyWebServer::Start(experiments::SurveyStore* surveys,
                                                                        experiments::ArtifactStore* artifacts,
                                                                        const SurveyWebOptions& options) {
  auto server = std::unique_ptr<SurveyWebServer>(new SurveyWebServer());
  server->surveys_ = surveys;
  server->artifacts_ = artifacts;
  server->options_ = options;
  server->requests_ = std::make_unique<RateLimiter>(options.requests_per_s, options.request_burst);
  server->joins_ = std::make_unique<RateLimiter>(options.joins_per_minute / 60.0, options.joins_per_minute);
  server->images_ = std::make_unique<survey::BlindImageCache>(options.image_cache_bytes);
  auto routes = std::make_unique<HttpRoutes>();
  server->Routes(*routes);
  HttpFrontOptions front = options.connections;
  front.host = options.host;
  front.port = options.port;
  front.headers = survey_http::SecurityHeaderList();
  ASSIGN_OR_RETURN(server->front_, HttpFront::Start(std::move(routes), front));
  return server;
}

SurveyWebServer::~SurveyWebServer() { Stop(); }

int SurveyWebServer::port() const { return front_ ? front_->port() : 0; }

HttpFrontCounters SurveyWebServer::counters() const { return front_ ? front_->counters() : HttpFrontCounters{}; }

void SurveyWebServer::Stop() {
  if (front_) front_->Stop();
}

void SurveyWebServer::Routes(HttpRoutes& http) {
  http.set_pre_routing_handler([this](const Request& req, Response& res) {
    survey_http::SetSecurityHeaders(res);
    return survey_http::Admit(*requests_, req, "too many requests: slow down", res)
               ? httplib::Server::HandlerResponse::Unhandled
               : httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler(NoRoute);
  http.set_exception_handler(Unexpected);

  http.Get(absl::StrCat("/s/", kSurveyName, "/?"), Page);
  http.Get("/static/app.js", AppJs);
  http.Get("/static/style.css", StyleCss);

  using Handler = void (SurveyWebServer::*)(const Request&, Response&);
  auto bound = [this](Handler handler) {
    return [this, handler](const Request& req, Response& res) { (this->*handler)(req, res); };
  };
  const std::string api = absl::StrCat("/api/s/", kSurveyName);
  http.Get(api + "/info", bound(&SurveyWebServer::Info));
  http.Post(api + "/join", bound(&SurveyWebServer::Join));
  http.Get(api + "/session", bound(&SurveyWebServer::Session));
  http.Post(api + "/consent", bound(&SurveyWebServer::Consent));
  http.Get(api + R"(/pairs/(\d{1,6}))", bound(&SurveyWebServer::Pair));
  http.Get(api + R"(/pairs/(\d{1,6})/image/([AB]))", bound(&SurveyWebServer::Image));
  http.Post(api + "/answers", bound(&SurveyWebServer::Answers));
}

absl::StatusOr<survey::ParticipantSession> SurveyWebServer::SessionOf(const Request& req) const {
  const std::string survey_name = req.matches[1];
  const std::string token = survey_http::TokenOf(req, survey_name);
  if (token.empty()) return absl::UnauthenticatedError("no participant token: join the survey first");
  return survey::ParticipantSession::Resume(*surveys_, survey_name, token);
}

absl::StatusOr<survey::ShownPair> SurveyWebServer::PairOf(const Request& req) const {
  ASSIGN_OR_RETURN(const survey::ParticipantSession session, SessionOf(req));
  int64_t position = 0;
  (void)absl::SimpleAtoi(std::string(req.matches[2]), &position);  // the route admits 1 to 6 digits only
  return session.Pair(position);
}

// What a visitor sees before joining: the survey's title and consent text.
void SurveyWebServer::Info(const Request& req, Response& res) {
  absl::StatusOr<survey::SurveyConfig> config = survey::Invitation(*surveys_, req.matches[1]);
  if (!config.ok()) return SetError(res, config.status());
  v1::ParticipantSession out;
  ToProto(*config, &out);
  SetJson(res, out);
}

void SurveyWebServer::Join(const Request& req, Response& res) {
  const std::string survey_name = req.matches[1];
  // A browser that joined before keeps its token (and its assignment).
  if (SessionOf(req).ok()) return SetToken(res, survey_http::TokenOf(req, survey_name));
  if (!survey_http::Admit(*joins_, req, "too many new participants from this address", res)) return;
  absl::StatusOr<std::string> token = survey::ParticipantSession::Join(*surveys_, survey_name);
  if (!token.ok()) return SetError(res, token.status());
  res.set_header("Set-Cookie", survey_http::TokenCookie(survey_name, *token));
  SetToken(res, *token);
}

void SurveyWebServer::Session(const Request& req, Response& res) {
  absl::StatusOr<survey::ParticipantSession> session = SessionOf(req);
  if (!session.ok()) return SetError(res, session.status());
  SetSession(res, *session);
}

void SurveyWebServer::Consent(const Request& req, Response& res) {
  absl::StatusOr<survey::ParticipantSession> session = SessionOf(req);
  if (!session.ok()) return SetError(res, session.status());
  if (absl::Status consented = session->Consent(); !consented.ok()) return SetError(res, consented);
  SetSession(res, *session);
}

void SurveyWebServer::Pair(const Request& req, Response& res) {
  absl::StatusOr<survey::ShownPair> pair = PairOf(req);
  if (!pair.ok()) return SetError(res, pair.status());
  const std::string images = absl::StrCat("/api/s/", std::string(req.matches[1]), "/pairs/", pair->position, "/image/");
  v1::ParticipantPair out;
  out.set_position(pair->position);
  out.set_total(pair->total);
  out.set_prompt(pair->prompt);
  out.set_shot_type(pair->shot_type);
  out.set_image_a(images + "A");
  out.set_image_b(images + "B");
  SetJson(res, out);
}

// Blind: the stored picture names its model; what is served carries pixels
// only (survey/blind_image.h), and a failure says nothing of the file.
void SurveyWebServer::Image(const Request& req, Response& res) {
  absl::StatusOr<survey::ShownPair> pair = PairOf(req);
  if (!pair.ok()) return SetError(res, pair.status());
  const int64_t artifact = req.matches[3] == "A" ? pair->artifact_a : pair->artifact_b;
  absl::StatusOr<survey::BlindImageCache::Png> png =
      images_->Get(artifact, [this, artifact] { return ReadArtifactBytes(*artifacts_, artifact); });
  if (!png.ok()) {
    LOG(ERROR) << "survey picture (artifact " << artifact << "): " << png.status();
    return SetError(res, absl::InternalError("this picture cannot be shown"));
  }
  // The URL names a position of this participant's assignment, which never
  // changes: the browser may keep it.
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "private, max-age=86400");
  res.set_content(**png, "image/png");
}

void SurveyWebServer::Answers(const Request& req, Response& res) {
  absl::StatusOr<survey::ParticipantSession> session = SessionOf(req);
  if (!session.ok()) return SetError(res, session.status());
  absl::StatusOr<survey::Submission> submission = SubmissionOf(req.body);
  if (!submission.ok()) return SetError(res, submission.status());
  absl::StatusOr<bool> replayed = session->Answer(*submission);
  if (!replayed.ok()) return SetError(res, replayed.status());
  v1::AnswerResponse out;
  out.set_replayed(*replayed);
  out.set_next_position(session->next_position());  // current after Answer: no second read
  out.set_finished(session->finished());
  SetJson(res, out);
}

}  // namespace dreamshot::services

#include "services/survey_web.h"

#include <google/protobuf/util/json_util.h>
#include <glog/logging.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "dreamshot/v1/survey.pb.h"
#include "experiments/artifact_blobs.h"
#include "services/rate_limiter.h"
#include "services/survey_convert.h"
#include "survey/participation.h"
#include "survey/survey_admin.h"
#include "survey/web_assets.h"
#include "survey/blind_image.h"
#include "services/http_front.h"
#include "core/status_macros.h"

namespace dreamshot::services {
namespace {

constexpr char kSurveyName[] = R"(([A-Za-z0-9._-]{1,100}))";
constexpr int kCookieDays = 30;

int HttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 410;  // the survey is closed (or not open yet): this link no longer works
    case absl::StatusCode::kResourceExhausted:
      return 429;
    default:
      return 500;
  }
}

void SetJson(httplib::Response& res, const google::protobuf::Message& message) {
  // Defaults printed too: the page reads position 0 and false as values.
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  res.set_content(json, "application/json");
}

void SetError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatus(status);
  v1::ErrorResponse error;
  error.set_error(std::string(status.message()));
  SetJson(res, error);
}

// Whole seconds, rounded up (RFC 9110), so a client that waits that long
// finds a token.
void SetRetryAfter(httplib::Response& res, double seconds) {
  res.set_header("Retry-After", std::to_string(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds)))));
}

// On every response, the front's own refusals included. Pictures replace
// Cache-Control (one header each).
std::vector<std::pair<std::string, std::string>> SecurityHeaderList() {
  return {{"Content-Security-Policy",
           "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", "no-store"}};
}

void SecurityHeaders(httplib::Response& res) {
  for (const auto& [name, value] : SecurityHeaderList()) res.set_header(name, value);
}

std::string CookieName(const std::string& survey) { return absl::StrCat("ds_", survey); }

// The bearer token, else the survey's cookie.
std::string TokenOf(const httplib::Request& req, const std::string& survey) {
  const std::string auth = req.get_header_value("Authorization");
  if (absl::StartsWith(auth, "Bearer ")) return std::string(absl::StripAsciiWhitespace(auth.substr(7)));
  const std::string name = CookieName(survey) + "=";
  for (absl::string_view part : absl::StrSplit(req.get_header_value("Cookie"), ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::StartsWith(part, name)) return std::string(part.substr(name.size()));
  }
  return "";
}

// The session of the request's token, which must belong to the survey in
// the URL.
absl::StatusOr<survey::Session> SessionOf(experiments::ExperimentStore& store, const httplib::Request& req,
                                          const std::string& survey_name) {
  const std::string token = TokenOf(req, survey_name);
  if (token.empty()) return absl::UnauthenticatedError("no participant token: join the survey first");
  absl::StatusOr<survey::Session> session = survey::LoadSession(store, token);
  if (!session.ok()) return session.status();
  if (session->survey.name != survey_name) return absl::UnauthenticatedError("this token is for another survey");
  return session;
}

void FillSession(const survey::Session& s, v1::ParticipantSession* out) {
  out->set_title(s.config.title);
  out->set_consent_text(s.config.consent_text);
  for (const survey::Question& q : s.config.questions) {
    v1::SurveyQuestion* question = out->add_questions();
    question->set_key(q.key);
    question->set_text(q.text);
  }
  out->set_option_a(s.config.option_a);
  out->set_option_b(s.config.option_b);
  out->set_option_neither(s.config.option_neither);
  out->set_total(static_cast<int64_t>(s.assignments.size()));
  out->set_next_position(s.next_position);
  out->set_consented(s.participant.consented_ms.has_value());
  out->set_finished(s.finished());
}

absl::StatusOr<std::string> ReadArtifactBytes(experiments::ExperimentStore& store, int64_t artifact_id) {
  absl::StatusOr<experiments::Artifact> artifact = store.GetArtifact(artifact_id);
  if (!artifact.ok()) return artifact.status();
  return experiments::ReadBlobUri(artifact->uri);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SurveyWebServer>> SurveyWebServer::Start(experiments::ExperimentStore* store,
                                                                        const SurveyWebOptions& options) {
  auto server = std::unique_ptr<SurveyWebServer>(new SurveyWebServer());
  server->store_ = store;
  server->options_ = options;
  server->requests_ = std::make_unique<RateLimiter>(options.requests_per_s, options.request_burst);
  server->joins_ = std::make_unique<RateLimiter>(options.joins_per_minute / 60.0, options.joins_per_minute);
  server->images_ = std::make_unique<survey::BlindImageCache>(options.image_cache_bytes);
  auto routes = std::make_unique<HttpRoutes>();
  server->Routes(*routes);
  HttpFrontOptions front = options.connections;
  front.host = options.host;
  front.port = options.port;
  front.headers = SecurityHeaderList();
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
  experiments::ExperimentStore& store = *store_;

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    SecurityHeaders(res);
    double retry_after_s = 0;
    if (!requests_->Allow(req.remote_addr, &retry_after_s)) {
      SetRetryAfter(res, retry_after_s);
      SetError(res, absl::ResourceExhaustedError("too many requests: slow down"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own JSON error
    const int code = res.status;
    // Sizes, framing and timeouts are answered by the front before a
    // request gets here (services/http_front.h).
    const absl::Status status = code == 404 ? absl::NotFoundError("no such page")
                                : code == 405
                                    ? absl::InvalidArgumentError("method not allowed here")
                                    : absl::InvalidArgumentError(absl::StrCat("bad request (HTTP ", code, ")"));
    SetError(res, status);
    res.status = code;
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    SetError(res, absl::InternalError("unexpected error"));
  });

  http.Get(absl::StrCat("/s/", kSurveyName, "/?"), [](const httplib::Request&, httplib::Response& res) {
    res.set_content(survey::kIndexHtml, "text/html; charset=utf-8");
  });
  http.Get("/static/app.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(survey::kAppJs, "text/javascript; charset=utf-8");
  });
  http.Get("/static/style.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(survey::kStyleCss, "text/css; charset=utf-8");
  });

  const std::string api = absl::StrCat("/api/s/", kSurveyName);
  // What a visitor sees before joining: the survey's title and consent text.
  http.Get(api + "/info", [&store](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<experiments::Survey> found = survey::FindSurveyByName(store, req.matches[1]);
    if (found.ok() && found->status != "open") {
      found = absl::FailedPreconditionError(absl::StrCat("this survey is ", found->status));
    }
    if (!found.ok()) return SetError(res, found.status());
    absl::StatusOr<survey::SurveyConfig> config = survey::SurveyConfigFromJson(found->config_json);
    if (!config.ok()) return SetError(res, config.status());
    survey::Session preview;
    preview.survey = *found;
    preview.config = *config;
    v1::ParticipantSession out;
    FillSession(preview, &out);
    SetJson(res, out);
  });
  http.Post(api + "/join", [this, &store](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    // A browser that joined before keeps its token (and its assignment).
    if (absl::StatusOr<survey::Session> existing = SessionOf(store, req, name); existing.ok()) {
      v1::JoinResponse out;
      out.set_token(TokenOf(req, name));
      return SetJson(res, out);
    }
    double retry_after_s = 0;
    if (!joins_->Allow(req.remote_addr, &retry_after_s)) {
      SetRetryAfter(res, retry_after_s);
      return SetError(res, absl::ResourceExhaustedError("too many new participants from this address"));
    }
    absl::StatusOr<experiments::Survey> found = survey::FindSurveyByName(store, name);
    if (!found.ok()) return SetError(res, found.status());
    absl::StatusOr<survey::JoinResult> joined = survey::JoinSurvey(store, found->id);
    if (!joined.ok()) return SetError(res, joined.status());
    res.set_header("Set-Cookie", absl::StrCat(CookieName(name), "=", joined->token, "; Path=/api/s/", name,
                                              "; Max-Age=", kCookieDays * 86400, "; HttpOnly; SameSite=Strict"));
    v1::JoinResponse out;
    out.set_token(joined->token);
    SetJson(res, out);
  });
  http.Get(api + "/session", [&store](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<survey::Session> session = SessionOf(store, req, req.matches[1]);
    if (!session.ok()) return SetError(res, session.status());
    v1::ParticipantSession out;
    FillSession(*session, &out);
    SetJson(res, out);
  });
  http.Post(api + "/consent", [&store](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<survey::Session> session = SessionOf(store, req, req.matches[1]);
    if (!session.ok()) return SetError(res, session.status());
    if (absl::Status s = store.MarkSurveyConsent(session->participant.id); !s.ok()) return SetError(res, s);
    session->participant.consented_ms = 1;
    v1::ParticipantSession out;
    FillSession(*session, &out);
    SetJson(res, out);
  });
  http.Get(api + R"(/pairs/(\d{1,6}))", [&store](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    absl::StatusOr<survey::Session> session = SessionOf(store, req, name);
    if (!session.ok()) return SetError(res, session.status());
    if (!session->participant.consented_ms) {
      return SetError(res, absl::PermissionDeniedError("give your consent first"));
    }
    int64_t position = 0;
    (void)absl::SimpleAtoi(std::string(req.matches[2]), &position);
    absl::StatusOr<survey::ShownPair> pair = survey::PairAt(*session, position);
    if (!pair.ok()) return SetError(res, pair.status());
    v1::ParticipantPair out;
    out.set_position(pair->position);
    out.set_total(pair->total);
    out.set_prompt(pair->prompt);
    out.set_shot_type(pair->shot_type);
    out.set_image_a(absl::StrCat("/api/s/", name, "/pairs/", position, "/image/A"));
    out.set_image_b(absl::StrCat("/api/s/", name, "/pairs/", position, "/image/B"));
    SetJson(res, out);
  });
  http.Get(api + R"(/pairs/(\d{1,6})/image/([AB]))", [this, &store](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<survey::Session> session = SessionOf(store, req, req.matches[1]);
    if (!session.ok()) return SetError(res, session.status());
    if (!session->participant.consented_ms) {
      return SetError(res, absl::PermissionDeniedError("give your consent first"));
    }
    int64_t position = 0;
    (void)absl::SimpleAtoi(std::string(req.matches[2]), &position);
    absl::StatusOr<survey::ShownPair> pair = survey::PairAt(*session, position);
    if (!pair.ok()) return SetError(res, pair.status());
    // Blind: the stored picture names its model; what is served carries
    // pixels only (survey/blind_image.h).
    const int64_t artifact = req.matches[3] == "A" ? pair->artifact_a : pair->artifact_b;
    absl::StatusOr<survey::BlindImageCache::Png> png =
        images_->Get(artifact, [&store, artifact] { return ReadArtifactBytes(store, artifact); });
    if (!png.ok()) {
      LOG(ERROR) << "survey picture (artifact " << artifact << "): " << png.status();
      return SetError(res, absl::InternalError("this picture cannot be shown"));
    }
    // The URL names a position of this participant's assignment, which
    // never changes: the browser may keep it.
    res.headers.erase("Cache-Control");
    res.set_header("Cache-Control", "private, max-age=86400");
    res.set_content(**png, "image/png");
  });
  http.Post(api + "/answers", [&store](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    absl::StatusOr<survey::Session> session = SessionOf(store, req, name);
    if (!session.ok()) return SetError(res, session.status());
    if (!session->participant.consented_ms) {
      return SetError(res, absl::PermissionDeniedError("give your consent first"));
    }
    v1::AnswerRequest request;
    const auto parsed = google::protobuf::util::JsonStringToMessage(req.body, &request);
    if (!parsed.ok()) {
      return SetError(res,
                      absl::InvalidArgumentError(absl::StrCat("malformed answer JSON: ", parsed.message().ToString())));
    }
    survey::Submission submission;
    submission.position = request.position();
    submission.answers.assign(request.answers().begin(), request.answers().end());
    submission.idempotency_key = request.idempotency_key();
    submission.elapsed_ms = request.elapsed_ms();
    absl::StatusOr<bool> replayed = survey::SubmitAnswers(store, *session, submission);
    if (!replayed.ok()) return SetError(res, replayed.status());
    v1::AnswerResponse out;
    out.set_replayed(*replayed);
    out.set_next_position(session->next_position);  // updated by SubmitAnswers: no second read
    out.set_finished(session->finished());
    SetJson(res, out);
  });
}

}  // namespace dreamshot::services

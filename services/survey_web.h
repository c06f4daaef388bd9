// The survey's participant side over HTTP, in the dreamshotd process: the
// page (/s/<survey>), its files (/static/...) and a JSON API under
// /api/s/<survey>/ speaking protobuf's JSON mapping of survey.proto's
// participant messages. A participant is known by an unguessable token,
// sent as a bearer token or in an HttpOnly cookie; it opens only its own
// assignment. Bodies are size-limited and requests rate-limited per client
// address; every error is JSON {"error": "..."} with the fitting status.
#ifndef DREAMSHOT_SERVICES_SURVEY_WEB_H_
#define DREAMSHOT_SERVICES_SURVEY_WEB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/http_front_options.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace dreamshot::experiments {
class ArtifactStore;
class SurveyStore;
}  // namespace dreamshot::experiments

namespace dreamshot::survey {
class BlindImageCache;
class ParticipantSession;
struct ShownPair;
}  // namespace dreamshot::survey

namespace dreamshot::services {

class HttpFront;
class HttpRoutes;
class RateLimiter;

struct SurveyWebOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port
  // Per client address; 0 turns a limit off.
  double requests_per_s = 30, request_burst = 60;
  double joins_per_minute = 20;
  // Connections, sizes and timeouts (host and port are the two above).
  // Slow or idle clients hold no thread (services/http_front.h), so the
  // keep-alive can outlast a participant's look at a pair: the answer
  // reuses the connection that fetched the pictures.
  HttpFrontOptions connections;
  // Blinded pictures kept re-encoded (survey/blind_image.h); a 512² PNG
  // is about 0.4 MB.
  size_t image_cache_bytes = size_t{128} << 20;
};

class SurveyWebServer {
 public:
  // `surveys` holds the participants and their answers, `artifacts` the
  // pictures' records.
  static absl::StatusOr<std::unique_ptr<SurveyWebServer>> Start(experiments::SurveyStore* surveys,
                                                                experiments::ArtifactStore* artifacts,
                                                                const SurveyWebOptions& options);
  ~SurveyWebServer();
  int port() const;
  HttpFrontCounters counters() const;
  void Stop();

 private:
  SurveyWebServer() = default;
  void Routes(HttpRoutes& http);

  // One handler per API route (/api/s/<survey>/...): HTTP in and out, the
  // rules in survey::ParticipantSession.
  void Info(const httplib::Request& req, httplib::Response& res);
  void Join(const httplib::Request& req, httplib::Response& res);
  void Session(const httplib::Request& req, httplib::Response& res);
  void Consent(const httplib::Request& req, httplib::Response& res);
  void Pair(const httplib::Request& req, httplib::Response& res);
  void Image(const httplib::Request& req, httplib::Response& res);
  void Answers(const httplib::Request& req, httplib::Response& res);

  // The session of the request's token on the survey in its URL.
  absl::StatusOr<survey::ParticipantSession> SessionOf(const httplib::Request& req) const;
  // The pair at the URL's position, for that session.
  absl::StatusOr<survey::ShownPair> PairOf(const httplib::Request& req) const;

  experiments::SurveyStore* surveys_ = nullptr;
  experiments::ArtifactStore* artifacts_ = nullptr;
  SurveyWebOptions options_;
  std::unique_ptr<RateLimiter> requests_, joins_;
  std::unique_ptr<survey::BlindImageCache> images_;
  std::unique_ptr<HttpFront> front_;  // last: stopped first, while the rest exists
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_WEB_H_

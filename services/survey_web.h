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
#include <thread>

#include "absl/status/statusor.h"
#include "experiments/store.h"

namespace httplib {
class Server;
}

namespace dreamshot::services {

class RateLimiter;

struct SurveyWebOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port
  size_t max_body_bytes = 16 * 1024;
  // Per client address; 0 turns a limit off.
  double requests_per_s = 30, request_burst = 60;
  double joins_per_minute = 20;
  int threads = 32;  // connections served at once
};

class SurveyWebServer {
 public:
  static absl::StatusOr<std::unique_ptr<SurveyWebServer>> Start(experiments::ExperimentStore* store,
                                                                const SurveyWebOptions& options);
  ~SurveyWebServer();
  int port() const { return port_; }
  void Stop();

 private:
  SurveyWebServer() = default;
  void Routes();

  experiments::ExperimentStore* store_ = nullptr;
  SurveyWebOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<RateLimiter> requests_, joins_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_WEB_H_

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

namespace httplib {
class Server;
}

namespace dreamshot::experiments {
class ExperimentStore;
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

  // Connections. cpp-httplib serves a connection on one pool thread for as
  // long as it stays open, idle keep-alive time included; connections
  // beyond `threads` wait, accepted but unserved, until a thread is free.
  // A browser keeps its connections open while the participant looks at a
  // pair, so with 32 threads and a 5 s keep-alive, idle connections held
  // every thread: 200 participants pausing 2 s per pair saw p99 17.7 s and
  // took 110 s instead of 24 s (bench/survey_http_bench.cc,
  // BM_SurveyHttpPaced; p99 with these settings: 2 ms). Neither change
  // alone was enough (128 threads: p99 5.6 s; a 1 s keep-alive: p99 4.8 s).
  // - threads: the connections busy or briefly idle at once in a
  //   200-participant survey, with room to spare. A thread without a
  //   connection sleeps; one holding an idle connection polls it (10 ms).
  int threads = 128;
  // - keep-alive timeout: an idle connection gives its thread back after
  //   1 s (cpp-httplib counts whole seconds). A page's requests for one
  //   pair (the pair, then both images) come within milliseconds and share
  //   a connection; the answer after the participant's pause reconnects,
  //   one round trip. A request racing the close is retried by the
  //   browser; answers carry idempotency keys for exactly that.
  int keep_alive_timeout_s = 1;
  // - keep-alive count: requests per connection before it is closed, so a
  //   busy client cannot keep a thread while other connections queue.
  int keep_alive_max_count = 10;
  // - no Nagle: cpp-httplib writes headers and body separately, and with
  //   Nagle the body waited for the client's delayed ACK of the headers:
  //   40 ms on every request. Browsers set TCP_NODELAY too.
  bool tcp_nodelay = true;
  // - listen backlog: Debian's cpp-httplib listens with a backlog of 5, so
  //   a burst of new connections (participants opening the link at once)
  //   overflowed it and their SYNs were retried after 1 s, 3 s, ... (joins
  //   took up to 8 s, some timed out). Capped by net.core.somaxconn.
  int listen_backlog = 512;
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
  int listen_fd_ = -1;  // the listening socket, for its backlog
  SurveyWebOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<RateLimiter> requests_, joins_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_WEB_H_

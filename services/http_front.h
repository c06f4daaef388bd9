// An HTTP/1.1 server for public pages whose network side is one event
// loop: connections are accepted, read and written without blocking, and a
// request reaches a worker thread only once it has fully arrived within its
// limits (services/http_request_framing.h). Workers run cpp-httplib's
// request parsing and routing on the buffered bytes and hand the response
// back to the loop. So a client that sends slowly, reads slowly or idles
// holds a little memory, never a thread: cpp-httplib's own listener gives
// each connection a pool thread for its whole life, and 140 connections
// trickling a header line every 3 s locked every participant out.
//
// Limits: the head and body sizes (413/431 before the body is kept, for
// plain and chunked bodies alike), a deadline from a request's first byte
// to its last (408), an idle keep-alive timeout, a stall timeout on writes,
// open connections per client address and in all (503), and the requests
// waiting for a worker (503).
#ifndef DREAMSHOT_SERVICES_HTTP_FRONT_H_
#define DREAMSHOT_SERVICES_HTTP_FRONT_H_

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/http_front_options.h"

namespace dreamshot::services {

// Routes and handlers, registered the cpp-httplib way (Get, Post, the
// pre-routing and error handlers). Never listens itself.
class HttpRoutes : public httplib::Server {
 public:
  using httplib::Server::process_request;
};

class HttpFront {
 public:
  static absl::StatusOr<std::unique_ptr<HttpFront>> Start(std::unique_ptr<HttpRoutes> routes,
                                                         const HttpFrontOptions& options);
  ~HttpFront();
  int port() const { return port_; }
  // Stops accepting and reading, lets the requests being handled finish,
  // and closes every connection. Idempotent.
  void Stop();

  using Counters = HttpFrontCounters;
  Counters counters() const;

 private:
  struct Conn;
  struct Job;
  struct Done;
  class Loop;

  HttpFront() = default;
  void Work();

  HttpFrontOptions options_;
  std::unique_ptr<HttpRoutes> routes_;
  std::unique_ptr<Loop> loop_;
  std::thread loop_thread_;
  std::vector<std::thread> workers_;
  int port_ = 0;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_HTTP_FRONT_H_

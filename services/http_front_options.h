// The settings of services/http_front.h, apart from it so that code that
// configures a server need not see cpp-httplib.
#ifndef DREAMSHOT_SERVICES_HTTP_FRONT_OPTIONS_H_
#define DREAMSHOT_SERVICES_HTTP_FRONT_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dreamshot::services {

struct HttpFrontOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  int workers = 16;
  size_t max_head_bytes = 16 * 1024;
  size_t max_body_bytes = 16 * 1024;
  int request_timeout_ms = 10'000;      // first byte of a request to its last
  int idle_timeout_ms = 5'000;          // a kept-alive connection with no request
  int write_stall_timeout_ms = 10'000;  // a response the client stops reading
  int keep_alive_max_requests = 100;
  // Open connections. A class behind one NAT address is one address, and a
  // browser opens up to 6 connections per host. The total is also kept
  // below the process's file descriptor limit.
  int max_connections = 4096;
  int max_connections_per_address = 256;
  size_t max_queued_requests = 1024;
  int listen_backlog = 512;
  // Added to the front's own responses (errors and refusals).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpFrontCounters {
  int64_t open_connections = 0;
  int64_t refused_connections = 0;  // over a connection limit
  int64_t timed_out = 0;            // closed by a request, idle or write deadline
  int64_t rejected_requests = 0;    // answered by the front itself (413, 431, 503, ...)
  int64_t requests = 0;             // handed to the routes
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_HTTP_FRONT_OPTIONS_H_

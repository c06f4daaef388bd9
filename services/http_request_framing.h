// Where one HTTP/1.1 request ends in the bytes received so far, with the
// limits checked as early as the bytes allow: the head's size as it grows,
// a declared Content-Length before any of the body is kept, each chunk's
// size (Transfer-Encoding: chunked) before its data arrives. A complete
// request comes back re-framed with a plain Content-Length and without
// Transfer-Encoding, Expect and framing trailers, so the code that parses
// it next (cpp-httplib's) never sees a body encoding or a size it did not
// agree to. Ambiguous framing (both lengths, differing lengths, folded or
// spaced header names) is refused: a request must mean one thing.
#ifndef DREAMSHOT_SERVICES_HTTP_REQUEST_FRAMING_H_
#define DREAMSHOT_SERVICES_HTTP_REQUEST_FRAMING_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace dreamshot::services {

struct FramingLimits {
  size_t max_head_bytes = 16 * 1024;  // request line and headers
  size_t max_headers = 100;
  size_t max_body_bytes = 16 * 1024;  // after de-chunking
};

struct Framing {
  enum Kind { kIncomplete, kComplete, kError };
  Kind kind = kIncomplete;
  // kError: the HTTP status to answer with and why; the connection is then
  // closed (the rest of its bytes cannot be trusted to be a request).
  int status = 0;
  std::string message;
  // kIncomplete: the head is complete, the body is not, and the client
  // waits for "100 Continue" before sending it.
  bool expect_continue = false;
  // kIncomplete: the first byte of the request has arrived.
  bool started = false;
  // kComplete: bytes of the input this request took, and the request
  // re-framed as described above.
  size_t consumed = 0;
  std::string request;
};

Framing FrameRequest(absl::string_view in, const FramingLimits& limits);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_HTTP_REQUEST_FRAMING_H_

#include "services/http_request_framing.h"

#include <cctype>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::services {
namespace {

Framing Error(int status, std::string message) {
  Framing f;
  f.kind = Framing::kError;
  f.status = status;
  f.message = std::move(message);
  return f;
}

// The next line of `in` from `*at` (without its CRLF or LF), advancing
// `*at`; nullopt when no line end has arrived yet.
std::optional<absl::string_view> NextLine(absl::string_view in, size_t* at) {
  const size_t end = in.find('\n', *at);
  if (end == absl::string_view::npos) return std::nullopt;
  absl::string_view line = in.substr(*at, end - *at);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  *at = end + 1;
  return line;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Headers that describe how the body travelled, which the re-framed
// request replaces or drops.
bool IsFramingHeader(absl::string_view name) {
  return absl::EqualsIgnoreCase(name, "Content-Length") || absl::EqualsIgnoreCase(name, "Transfer-Encoding") ||
         absl::EqualsIgnoreCase(name, "Expect") || absl::EqualsIgnoreCase(name, "Trailer") ||
         absl::EqualsIgnoreCase(name, "TE");
}

std::optional<size_t> ParseHex(absl::string_view s) {
  if (s.empty() || s.size() > 8) return std::nullopt;  // 8 hex digits: 4 GiB, far past any limit
  size_t value = 0;
  for (char c : s) {
    const int digit = std::isdigit(static_cast<unsigned char>(c))   ? c - '0'
                      : (c >= 'a' && c <= 'f')                     ? c - 'a' + 10
                      : (c >= 'A' && c <= 'F')                     ? c - 'A' + 10
                                                                    : -1;
    if (digit < 0) return std::nullopt;
    value = value * 16 + digit;
  }
  return value;
}

}  // namespace

Framing FrameRequest(absl::string_view in, const FramingLimits& limits) {
  Framing incomplete;
  size_t at = 0;
  // Empty lines before a request line are allowed (RFC 9112 §2.2).
  while (at < in.size() && (in[at] == '\r' || in[at] == '\n')) ++at;
  const size_t start = at;
  incomplete.started = at < in.size();

  // The head.
  std::string head;
  std::optional<absl::string_view> line = NextLine(in, &at);
  if (!line) {
    if (in.size() - start > limits.max_head_bytes) return Error(431, "request head too large");
    return incomplete;
  }
  const absl::string_view request_line = *line;
  {
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = sp1 == absl::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp2 == absl::string_view::npos || !IsToken(request_line.substr(0, sp1)) || sp2 == sp1 + 1) {
      return Error(400, "malformed request line");
    }
    const absl::string_view version = request_line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return Error(505, "HTTP version not supported");
  }
  absl::StrAppend(&head, request_line, "\r\n");
  std::optional<size_t> content_length;
  bool chunked = false, expect_continue = false;
  size_t headers = 0;
  while (true) {
    line = NextLine(in, &at);
    if (at - start > limits.max_head_bytes) return Error(431, "request head too large");
    if (!line) {
      if (in.size() - start > limits.max_head_bytes) return Error(431, "request head too large");
      return incomplete;
    }
    if (line->empty()) break;
    if (++headers > limits.max_headers) return Error(431, "too many request headers");
    if ((*line)[0] == ' ' || (*line)[0] == '\t') return Error(400, "folded header lines are not accepted");
    const size_t colon = line->find(':');
    if (colon == absl::string_view::npos || !IsToken(line->substr(0, colon))) {
      return Error(400, "malformed header line");
    }
    const absl::string_view name = line->substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(line->substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
          })) {
        return Error(400, "malformed Content-Length");
      }
      const size_t length = std::stoull(std::string(value));
      if (content_length && *content_length != length) return Error(400, "conflicting Content-Length headers");
      content_length = length;
    } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (!absl::EqualsIgnoreCase(value, "chunked") || chunked) {
        return Error(501, absl::StrCat("transfer coding '", value, "' is not supported (only chunked)"));
      }
      chunked = true;
    } else if (absl::EqualsIgnoreCase(name, "Content-Encoding")) {
      // A compressed body would be inflated past the limit after it was
      // checked; no browser compresses what it sends.
      if (!absl::EqualsIgnoreCase(value, "identity")) {
        return Error(415, absl::StrCat("compressed request bodies (Content-Encoding: ", value, ") are not accepted"));
      }
    } else if (absl::EqualsIgnoreCase(name, "Expect")) {
      if (!absl::EqualsIgnoreCase(value, "100-continue")) return Error(417, "unsupported Expect header");
      expect_continue = true;
    }
    if (!IsFramingHeader(name)) absl::StrAppend(&head, *line, "\r\n");
  }
  if (chunked && content_length) return Error(400, "both Content-Length and Transfer-Encoding");
  const std::string too_large =
      absl::StrCat("request body too large (the limit is ", limits.max_body_bytes, " bytes)");
  if (content_length && *content_length > limits.max_body_bytes) return Error(413, too_large);

  incomplete.started = true;
  incomplete.expect_continue = expect_continue;
  std::string body;
  if (chunked) {
    // Chunk framing may not cost more than the body itself (plus a little):
    // tiny chunks with long extensions would otherwise buffer megabytes.
    const size_t body_start = at, max_raw = 2 * limits.max_body_bytes + 4096;
    while (true) {
      if (at - body_start > max_raw) return Error(413, too_large);
      line = NextLine(in, &at);
      if (!line) {
        if (in.size() - at > 64) return Error(400, "malformed chunk size");
        return incomplete;
      }
      const absl::string_view size_text = line->substr(0, line->find(';'));
      const std::optional<size_t> size = ParseHex(absl::StripAsciiWhitespace(size_text));
      if (!size || line->size() > 256) return Error(400, "malformed chunk size");
      if (body.size() + *size > limits.max_body_bytes) return Error(413, too_large);
      if (*size == 0) break;
      if (in.size() - at < *size + 2) {
        if (in.size() - at >= *size + 1 && in[at + *size] != '\r' && in[at + *size] != '\n') {
          return Error(400, "chunk longer than its size");
        }
        return incomplete;
      }
      body.append(in.data() + at, *size);
      at += *size;
      if (in[at] == '\n') {
        at += 1;
      } else if (in.substr(at, 2) == "\r\n") {
        at += 2;
      } else {
        return Error(400, "chunk longer than its size");
      }
    }
    // Trailer fields, dropped; bounded like the head.
    const size_t trailers = at;
    while (true) {
      line = NextLine(in, &at);
      if (at - trailers > limits.max_head_bytes) return Error(431, "request trailers too large");
      if (!line) {
        if (in.size() - trailers > limits.max_head_bytes) return Error(431, "request trailers too large");
        return incomplete;
      }
      if (line->empty()) break;
    }
  } else if (content_length) {
    if (in.size() - at < *content_length) return incomplete;
    body.assign(in.data() + at, *content_length);
    at += *content_length;
  }

  Framing done;
  done.kind = Framing::kComplete;
  done.started = true;
  done.consumed = at;
  done.request = std::move(head);
  absl::StrAppend(&done.request, "Content-Length: ", body.size(), "\r\n\r\n", body);
  return done;
}

}  // namespace dreamshot::services

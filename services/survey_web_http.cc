#include "services/survey_web_http.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "dreamshot/v1/survey.pb.h"

namespace dreamshot::services::survey_http {
namespace {

constexpr int kCookieDays = 30;

std::string CookieName(const std::string& survey) { return absl::StrCat("ds_", survey); }

// Whole seconds, rounded up (RFC 9110), so a client that waits that long
// finds a token.
void SetRetryAfter(httplib::Response& res, double seconds) {
  res.set_header("Retry-After", std::to_string(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds)))));
}

}  // namespace

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

bool Admit(RateLimiter& limiter, const httplib::Request& req, const char* refusal, httplib::Response& res) {
  double retry_after_s = 0;
  if (limiter.Allow(req.remote_addr, &retry_after_s)) return true;
  SetRetryAfter(res, retry_after_s);
  SetError(res, absl::ResourceExhaustedError(refusal));
  return false;
}

std::vector<std::pair<std::string, std::string>> SecurityHeaderList() {
  return {{"Content-Security-Policy",
           "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", "no-store"}};
}

void SetSecurityHeaders(httplib::Response& res) {
  for (const auto& [name, value] : SecurityHeaderList()) res.set_header(name, value);
}

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

std::string TokenCookie(const std::string& survey, const std::string& token) {
  return absl::StrCat(CookieName(survey), "=", token, "; Path=/api/s/", survey, "; Max-Age=", kCookieDays * 86400,
                      "; HttpOnly; SameSite=Strict");
}

}  // namespace dreamshot::services::survey_http

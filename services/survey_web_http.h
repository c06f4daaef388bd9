// What the survey pages say over HTTP around their routes: the status code
// of each error, JSON bodies (protobuf's JSON mapping), errors as
// {"error": "..."}, the security headers, rate-limit refusals and the
// participant's token (bearer, else the survey's HttpOnly cookie). Private
// to services/survey_web.cc; the participant rules are survey/'s.
#ifndef DREAMSHOT_SERVICES_SURVEY_WEB_HTTP_H_
#define DREAMSHOT_SERVICES_SURVEY_WEB_HTTP_H_

#include <google/protobuf/message.h>
#include <httplib.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "services/rate_limiter.h"

namespace dreamshot::services::survey_http {

// 400, 401, 403, 404 (NOT_FOUND, OUT_OF_RANGE), 409, 410 (a survey not
// open: the link no longer works), 429, else 500.
int HttpStatus(const absl::Status& status);

// Defaults printed too: the page reads position 0 and false as values.
void SetJson(httplib::Response& res, const google::protobuf::Message& message);
// {"error": message} with HttpStatus. Messages come from survey/ and name
// no system, file or path; a handler whose error could (a picture's file)
// logs it and sends a generic one.
void SetError(httplib::Response& res, const absl::Status& status);

// True when `limiter` has a token for the client's address; otherwise a 429
// `refusal` with Retry-After, and false.
bool Admit(RateLimiter& limiter, const httplib::Request& req, const char* refusal, httplib::Response& res);

// On every response, the front's own refusals included. Pictures replace
// Cache-Control (one header each).
std::vector<std::pair<std::string, std::string>> SecurityHeaderList();
void SetSecurityHeaders(httplib::Response& res);

// The bearer token, else the survey's cookie; "" without either.
std::string TokenOf(const httplib::Request& req, const std::string& survey);
// The Set-Cookie value that keeps `token` for the survey's API only,
// HttpOnly and SameSite=Strict, for 30 days.
std::string TokenCookie(const std::string& survey, const std::string& token);

}  // namespace dreamshot::services::survey_http

#endif  // DREAMSHOT_SERVICES_SURVEY_WEB_HTTP_H_

#include "services/http_request_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace dreamshot::services {
namespace {

FramingLimits Limits() {
  FramingLimits limits;
  limits.max_head_bytes = 256;
  limits.max_headers = 8;
  limits.max_body_bytes = 32;
  return limits;
}

Framing Frame(const std::string& in) { return FrameRequest(in, Limits()); }

TEST(HttpRequestFramingTest, PlainBodyIsReframedWithItsLength) {
  const std::string in = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /next";
  const Framing f = Frame(in);
  ASSERT_EQ(f.kind, Framing::kComplete) << f.message;
  EXPECT_EQ(f.consumed, in.find("GET"));
  EXPECT_EQ(f.request, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
}

TEST(HttpRequestFramingTest, GetWithoutBodyGetsLengthZero) {
  const Framing f = Frame("\r\nGET /s/x HTTP/1.1\nHost: x\n\n");
  ASSERT_EQ(f.kind, Framing::kComplete) << f.message;
  EXPECT_EQ(f.request, "GET /s/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpRequestFramingTest, WaitsForEveryPart) {
  const std::string full = "POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
  for (size_t n = 0; n < full.size(); ++n) {
    const Framing f = Frame(full.substr(0, n));
    EXPECT_EQ(f.kind, Framing::kIncomplete) << n;
    EXPECT_EQ(f.started, n > 0) << n;
  }
  EXPECT_EQ(Frame(full).kind, Framing::kComplete);
}

TEST(HttpRequestFramingTest, ChunkedBodyIsDecodedAndTrailersDropped) {
  const Framing f = Frame(
      "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_EQ(f.kind, Framing::kComplete) << f.message;
  EXPECT_EQ(f.request, "POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nWikipedia");
}

TEST(HttpRequestFramingTest, ExpectContinueIsReportedWhileTheBodyIsMissing) {
  const Framing f = Frame("POST /a HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(f.kind, Framing::kIncomplete);
  EXPECT_TRUE(f.expect_continue);
}

TEST(HttpRequestFramingTest, DeclaredLengthOverTheLimitIsRefusedBeforeTheBody) {
  const Framing f = Frame("POST /a HTTP/1.1\r\nContent-Length: 33\r\n\r\n");
  EXPECT_EQ(f.kind, Framing::kError);
  EXPECT_EQ(f.status, 413);
  EXPECT_EQ(Frame("POST /a HTTP/1.1\r\nContent-Length: 32\r\n\r\n").kind, Framing::kIncomplete);
  EXPECT_EQ(Frame("POST /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n").status, 400);
}

TEST(HttpRequestFramingTest, ChunkOverTheLimitIsRefusedBeforeItsData) {
  // The size line alone is enough to refuse.
  const Framing big = Frame("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n21\r\n");
  EXPECT_EQ(big.kind, Framing::kError);
  EXPECT_EQ(big.status, 413);
  // Many small chunks add up.
  std::string many = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 33; ++i) many += "1\r\nx\r\n";
  EXPECT_EQ(Frame(many).status, 413);
  // Framing that costs far more than its body.
  std::string padded = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 200; ++i) padded += "0000001;" + std::string(100, 'e') + "\r\nx\r\n";
  FramingLimits roomy = Limits();
  roomy.max_body_bytes = 1000;
  EXPECT_EQ(FrameRequest(padded, roomy).status, 413);
}

TEST(HttpRequestFramingTest, HeadLimits) {
  EXPECT_EQ(Frame("GET /" + std::string(300, 'a')).status, 431);  // no line end yet
  EXPECT_EQ(Frame("GET / HTTP/1.1\r\nA: " + std::string(300, 'a') + "\r\n\r\n").status, 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) many += "A: b\r\n";
  EXPECT_EQ(Frame(many + "\r\n").status, 431);
}

TEST(HttpRequestFramingTest, AmbiguousOrUnsupportedFramingIsRefused) {
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").status, 400);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").status, 400);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n").status, 400);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status, 501);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx").status, 415);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nContent-Length : 1\r\n\r\nx").status, 400);
  EXPECT_EQ(Frame("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n").status, 400);
  EXPECT_EQ(Frame("GET / HTTP/2.0\r\n\r\n").status, 505);
  EXPECT_EQ(Frame("GET /\r\n\r\n").status, 400);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").status, 400);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n").status, 400);
  EXPECT_EQ(Frame("POST / HTTP/1.1\r\nExpect: something\r\n\r\n").status, 417);
}

TEST(HttpRequestFramingTest, ConnectionHeaderIsKeptForTheParser) {
  const Framing f = Frame("GET / HTTP/1.0\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(f.kind, Framing::kComplete);
  EXPECT_NE(f.request.find("Connection: close\r\n"), std::string::npos);
}

}  // namespace
}  // namespace dreamshot::services

// The HTTP front on its own: routes behind it, raw sockets in front.
#include "services/http_front.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace dreamshot::services {
namespace {

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  return fd;
}

void Send(int fd, const std::string& bytes) { (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

// Reads until `count` complete responses (by Content-Length) arrived, the
// server closed, or `timeout_ms` passed.
std::string Read(int fd, int count, int timeout_ms) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto complete = [&] {
    int seen = 0;
    size_t at = 0;
    while (seen < count) {
      const size_t head = out.find("\r\n\r\n", at);
      if (head == std::string::npos) return false;
      const size_t cl = out.find("Content-Length: ", at);
      const size_t length = cl != std::string::npos && cl < head ? std::stoul(out.substr(cl + 16)) : 0;
      if (out.size() < head + 4 + length) return false;
      at = head + 4 + length;
      ++seen;
    }
    return true;
  };
  while (!complete() && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

bool ClosedByServer(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char byte;
  return ::recv(fd, &byte, 1, MSG_PEEK) == 0;
}

class HttpFrontTest : public ::testing::Test {
 protected:
  void Start(HttpFrontOptions options = {}) {
    auto routes = std::make_unique<HttpRoutes>();
    routes->Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("hello " + req.remote_addr, "text/plain");
    });
    routes->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    routes->Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      ++slow_started_;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.set_content("done", "text/plain");
    });
    options.headers = {{"X-Front", "1"}};
    auto front = HttpFront::Start(std::move(routes), options);
    ASSERT_TRUE(front.ok()) << front.status();
    front_ = std::move(*front);
  }
  std::unique_ptr<HttpFront> front_;
  std::atomic<int> slow_started_{0};
};

TEST_F(HttpFrontTest, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  Start();
  const int fd = Connect(front_->port());
  Send(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  const std::string two = Read(fd, 2, 2000);
  EXPECT_NE(two.find("hello 127.0.0.1"), std::string::npos) << two;
  EXPECT_LT(two.find("hello"), two.find("\r\n\r\nabc")) << two;
  Send(fd, "GET /hello HTTP/1.1\r\n\r\n");  // the same connection, kept alive
  EXPECT_NE(Read(fd, 1, 2000).find("200 OK"), std::string::npos);
  EXPECT_EQ(front_->counters().requests, 3);
  ::close(fd);
}

TEST_F(HttpFrontTest, ConnectionCloseAndHttp10AreHonoured) {
  Start();
  for (const char* request : {"GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n", "GET /hello HTTP/1.0\r\n\r\n"}) {
    const int fd = Connect(front_->port());
    Send(fd, request);
    EXPECT_NE(Read(fd, 1, 2000).find("200 OK"), std::string::npos);
    EXPECT_TRUE(ClosedByServer(fd, 2000)) << request;
    ::close(fd);
  }
}

TEST_F(HttpFrontTest, RefusalsCarryTheFrontsHeadersAndClose) {
  HttpFrontOptions options;
  options.max_body_bytes = 10;
  Start(options);
  const int fd = Connect(front_->port());
  Send(fd, "POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
  const std::string refused = Read(fd, 1, 2000);
  EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 413") << refused;
  EXPECT_NE(refused.find("X-Front: 1\r\n"), std::string::npos);
  EXPECT_NE(refused.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(ClosedByServer(fd, 2000));
  ::close(fd);
  EXPECT_EQ(front_->counters().rejected_requests, 1);
  EXPECT_EQ(front_->counters().requests, 0) << "the routes never saw it";
}

TEST_F(HttpFrontTest, DeadlinesCloseSlowAndIdleConnections) {
  HttpFrontOptions options;
  options.request_timeout_ms = 300;
  options.idle_timeout_ms = 300;
  Start(options);
  const int slow = Connect(front_->port()), idle = Connect(front_->port());
  Send(slow, "GET /hello HTTP/1.1\r\n");
  const std::string timed_out = Read(slow, 1, 2000);
  EXPECT_EQ(timed_out.substr(0, 12), "HTTP/1.1 408") << timed_out;
  EXPECT_TRUE(ClosedByServer(idle, 2000));
  EXPECT_EQ(front_->counters().timed_out, 2);
  ::close(slow);
  ::close(idle);
}

TEST_F(HttpFrontTest, FullWorkQueueIsRefusedWith503) {
  HttpFrontOptions options;
  options.workers = 1;
  options.max_queued_requests = 1;
  Start(options);
  std::vector<int> fds;
  std::string statuses;
  for (int i = 0; i < 4; ++i) {
    fds.push_back(Connect(front_->port()));
    Send(fds.back(), "GET /slow HTTP/1.1\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int fd : fds) {
    statuses += Read(fd, 1, 3000).substr(9, 3) + " ";
    ::close(fd);
  }
  // One running, one waiting, the other two refused at once.
  EXPECT_EQ(statuses, "200 200 503 503 ") << statuses;
}

TEST_F(HttpFrontTest, StopLetsRequestsInFlightFinish) {
  Start();
  const int fd = Connect(front_->port());
  Send(fd, "GET /slow HTTP/1.1\r\n\r\n");
  while (slow_started_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  front_->Stop();  // waits for the handler; the connection closes unanswered
  EXPECT_TRUE(ClosedByServer(fd, 2000));
  ::close(fd);
  front_->Stop();  // idempotent
}

}  // namespace
}  // namespace dreamshot::services

#include "services/http_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/http_request_framing.h"

namespace dreamshot::services {
namespace {

constexpr uint64_t kListenKey = 0, kWakeKey = 1;
constexpr size_t kReadChunk = 64 * 1024;
// File descriptors left for everything else in the process (the store,
// gRPC, blobs being read).
constexpr int kReservedDescriptors = 128;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Address(const sockaddr_storage& addr, std::string* ip, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    *port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    *port = ntohs(a->sin6_port);
  }
  *ip = text;
}

const char* Reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The front's own answer, {"error": "..."}; it always closes the
// connection.
std::string ErrorResponse(int status, const std::string& message,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string body = absl::StrCat("{\"error\":", JsonString(message), "}");
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ", Reason(status), "\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  if (status == 503) absl::StrAppend(&out, "Retry-After: 1\r\n");
  absl::StrAppend(&out, "Content-Type: application/json\r\nContent-Length: ", body.size(),
                  "\r\nConnection: close\r\n\r\n", body);
  return out;
}

// A request as bytes in memory for cpp-httplib's parser; the response it
// writes is collected for the event loop to send.
class BufferStream final : public httplib::Stream {
 public:
  BufferStream(const std::string& in, std::string* out, const std::string& remote_ip, int remote_port,
               const std::string& local_ip, int local_port)
      : in_(in), out_(out), remote_ip_(remote_ip), local_ip_(local_ip), remote_port_(remote_port),
        local_port_(local_port) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - at_);
    std::copy_n(in_.data() + at_, n, ptr);
    at_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_->append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return INVALID_SOCKET; }  // workers never touch the connection

 private:
  const std::string& in_;
  size_t at_ = 0;
  std::string* out_;
  std::string remote_ip_, local_ip_;
  int remote_port_, local_port_;
};

}  // namespace

struct HttpFront::Conn {
  int fd = -1;
  std::string ip, local_ip;
  int port = 0, local_port = 0;
  enum State { kReading, kProcessing, kWriting } state = kReading;
  std::string in, out;
  size_t out_at = 0;
  bool sent_continue = false, close_after_write = false;
  int served = 0;
  int64_t request_started_ms = -1;  // first byte of the request being read
  int64_t last_activity_ms = 0;
};

struct HttpFront::Job {
  uint64_t conn = 0;
  std::string request, ip, local_ip;
  int port = 0, local_port = 0;
  bool last = false;  // the connection's last request (keep-alive count)
};

struct HttpFront::Done {
  uint64_t conn = 0;
  std::string response;
  bool close = false;
};

class HttpFront::Loop {
 public:
  Loop(const HttpFrontOptions& options, int listen_fd, int max_connections)
      : options_(options), listen_fd_(listen_fd), max_connections_(max_connections) {
    limits_.max_head_bytes = options.max_head_bytes;
    limits_.max_body_bytes = options.max_body_bytes;
  }
  ~Loop() {
    for (auto& [id, conn] : conns_) ::close(conn.fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  absl::Status Init() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("cannot create the HTTP event loop");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenKey;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    ev.data.u64 = kWakeKey;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    return absl::OkStatus();
  }

  void Run() {
    std::vector<epoll_event> events(256);
    int64_t next_sweep = NowMs() + 100;
    while (!stopping_.load()) {
      const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        const uint64_t key = events[i].data.u64;
        if (key == kListenKey) {
          Accept();
        } else if (key == kWakeKey) {
          uint64_t count;
          if (::read(wake_fd_, &count, sizeof(count)) < 0) {
            // Nothing to drain (EAGAIN): another wake-up got there first.
          }
        } else {
          OnEvent(key, events[i].events);
        }
      }
      TakeDone();
      const int64_t now = NowMs();
      if (now >= next_sweep) {
        Expire(now);
        next_sweep = now + 100;
      }
    }
  }

  void Stop() {
    stopping_ = true;
    Wake();
    std::lock_guard<std::mutex> lock(jobs_mu_);
    jobs_cv_.notify_all();
  }

  // For workers: the next request, or false once stopping.
  bool NextJob(Job* job) {
    std::unique_lock<std::mutex> lock(jobs_mu_);
    jobs_cv_.wait(lock, [&] { return stopping_.load() || !jobs_.empty(); });
    if (jobs_.empty()) return false;
    *job = std::move(jobs_.front());
    jobs_.pop_front();
    return true;
  }

  void Finish(Done done) {
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done_.push_back(std::move(done));
    }
    Wake();
  }

  Counters counters() const {
    Counters c;
    c.open_connections = open_.load();
    c.refused_connections = refused_.load();
    c.timed_out = timed_out_.load();
    c.rejected_requests = rejected_.load();
    c.requests = requests_.load();
    return c;
  }

 private:
  void Wake() {
    const uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof(one)) < 0) {
      // EAGAIN: the counter is full, so the loop is awake already.
    }
  }

  void Watch(uint64_t id, const Conn& conn, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, conn.fd, &ev);
  }

  void Accept() {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN; EMFILE also lands here, and the next round retries
      std::string ip;
      int port = 0;
      Address(addr, &ip, &port);
      int& per_address = per_address_[ip];
      if (static_cast<int>(conns_.size()) >= max_connections_ || per_address >= options_.max_connections_per_address) {
        if (per_address == 0) per_address_.erase(ip);
        ++refused_;
        const std::string refusal = ErrorResponse(503, "too many open connections", options_.headers);
        (void)::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL);
        ::close(fd);
        continue;
      }
      ++per_address;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      const uint64_t id = next_id_++;
      Conn& conn = conns_[id];
      conn.fd = fd;
      conn.ip = ip;
      conn.port = port;
      sockaddr_storage local{};
      socklen_t local_len = sizeof(local);
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
        Address(local, &conn.local_ip, &conn.local_port);
      }
      conn.last_activity_ms = NowMs();
      ++open_;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = id;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  void Close(uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    ::close(it->second.fd);  // also leaves the epoll set
    if (--per_address_[it->second.ip] <= 0) per_address_.erase(it->second.ip);
    conns_.erase(it);
    --open_;
  }

  // Answers with the front's own error and closes once it is sent.
  void Refuse(uint64_t id, Conn& conn, int status, const std::string& message) {
    ++rejected_;
    conn.in.clear();
    conn.out = ErrorResponse(status, message, options_.headers);
    conn.out_at = 0;
    conn.close_after_write = true;
    conn.state = Conn::kWriting;
    conn.last_activity_ms = NowMs();
    Write(id, conn);
  }

  void OnEvent(uint64_t id, uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn& conn = it->second;
    // Both directions closed, or an error: no response can arrive.
    if (events & (EPOLLHUP | EPOLLERR)) return Close(id);
    if (conn.state == Conn::kReading && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
      Read(id, conn);
    } else if (conn.state == Conn::kWriting && (events & EPOLLOUT)) {
      Write(id, conn);
    }
  }

  void Read(uint64_t id, Conn& conn) {
    char buffer[kReadChunk];
    const ssize_t n = ::recv(conn.fd, buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return Close(id);
    if (n < 0) return;
    conn.in.append(buffer, static_cast<size_t>(n));
    conn.last_activity_ms = NowMs();
    if (conn.request_started_ms < 0) conn.request_started_ms = conn.last_activity_ms;
    Frame(id, conn);
  }

  // Hands a complete request to the workers, answers a broken one, or
  // waits for more bytes.
  void Frame(uint64_t id, Conn& conn) {
    Framing framing = FrameRequest(conn.in, limits_);
    if (framing.kind == Framing::kError) return Refuse(id, conn, framing.status, framing.message);
    if (framing.kind == Framing::kIncomplete) {
      if (!framing.started) {
        conn.in.clear();  // only blank lines so far
        conn.request_started_ms = -1;
      }
      if (framing.expect_continue && !conn.sent_continue) {
        conn.sent_continue = true;
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        (void)::send(conn.fd, kContinue, sizeof(kContinue) - 1, MSG_NOSIGNAL);
      }
      return;
    }
    {
      std::lock_guard<std::mutex> lock(jobs_mu_);
      if (jobs_.size() >= options_.max_queued_requests) {
        return Refuse(id, conn, 503, "the server is busy: try again");
      }
      Job job;
      job.conn = id;
      job.request = std::move(framing.request);
      job.ip = conn.ip;
      job.port = conn.port;
      job.local_ip = conn.local_ip;
      job.local_port = conn.local_port;
      job.last = conn.served + 1 >= options_.keep_alive_max_requests;
      jobs_.push_back(std::move(job));
      jobs_cv_.notify_one();
    }
    ++requests_;
    conn.in.erase(0, framing.consumed);
    conn.state = Conn::kProcessing;
    conn.sent_continue = false;
    conn.request_started_ms = -1;
    Watch(id, conn, 0);  // hang-ups are still reported
  }

  void TakeDone() {
    std::vector<Done> done;
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done.swap(done_);
    }
    for (Done& d : done) {
      auto it = conns_.find(d.conn);
      if (it == conns_.end()) continue;  // the client went away meanwhile
      Conn& conn = it->second;
      ++conn.served;
      conn.out = std::move(d.response);
      conn.out_at = 0;
      conn.close_after_write = d.close;
      conn.state = Conn::kWriting;
      conn.last_activity_ms = NowMs();
      Write(d.conn, conn);
    }
  }

  void Write(uint64_t id, Conn& conn) {
    while (conn.out_at < conn.out.size()) {
      const ssize_t n = ::send(conn.fd, conn.out.data() + conn.out_at, conn.out.size() - conn.out_at, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Watch(id, conn, EPOLLOUT);
        if (errno == EINTR) continue;
        return Close(id);
      }
      conn.out_at += static_cast<size_t>(n);
      conn.last_activity_ms = NowMs();
    }
    if (conn.close_after_write) return Close(id);
    conn.out.clear();
    conn.out_at = 0;
    conn.state = Conn::kReading;
    Watch(id, conn, EPOLLIN | EPOLLRDHUP);
    if (!conn.in.empty()) {  // a pipelined request
      conn.request_started_ms = conn.last_activity_ms;
      Frame(id, conn);
    }
  }

  void Expire(int64_t now) {
    std::vector<uint64_t> expired;
    for (auto& [id, conn] : conns_) {
      if (conn.state == Conn::kReading) {
        if (conn.request_started_ms >= 0 && now - conn.request_started_ms > options_.request_timeout_ms) {
          expired.push_back(id);
        } else if (conn.request_started_ms < 0 && now - conn.last_activity_ms > options_.idle_timeout_ms) {
          expired.push_back(id);
        }
      } else if (conn.state == Conn::kWriting && now - conn.last_activity_ms > options_.write_stall_timeout_ms) {
        expired.push_back(id);
      }
    }
    for (uint64_t id : expired) {
      ++timed_out_;
      Conn& conn = conns_[id];
      if (conn.state == Conn::kReading && conn.request_started_ms >= 0 && !conn.close_after_write) {
        // Best effort: the client learns why (it may not be reading).
        const std::string timeout = ErrorResponse(408, "request not received in time", options_.headers);
        (void)::send(conn.fd, timeout.data(), timeout.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      Close(id);
    }
  }

  const HttpFrontOptions options_;
  FramingLimits limits_;
  int listen_fd_ = -1, epoll_fd_ = -1, wake_fd_ = -1;
  const int max_connections_;
  std::atomic<bool> stopping_{false};

  // Loop thread only.
  std::unordered_map<uint64_t, Conn> conns_;
  std::unordered_map<std::string, int> per_address_;
  uint64_t next_id_ = 2;

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;
  std::mutex done_mu_;
  std::vector<Done> done_;

  std::atomic<int64_t> open_{0}, refused_{0}, timed_out_{0}, rejected_{0}, requests_{0};
};

absl::StatusOr<std::unique_ptr<HttpFront>> HttpFront::Start(std::unique_ptr<HttpRoutes> routes,
                                                           const HttpFrontOptions& options) {
  auto front = std::unique_ptr<HttpFront>(new HttpFront());
  front->options_ = options;
  front->routes_ = std::move(routes);
  // cpp-httplib writes these into its responses; the loop enforces them.
  front->routes_->set_keep_alive_max_count(options.keep_alive_max_requests);
  front->routes_->set_keep_alive_timeout(std::max(1, options.idle_timeout_ms / 1000));
  front->routes_->set_payload_max_length(options.max_body_bytes);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string where = absl::StrCat(options.host, ":", options.port);
  if (getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &found) != 0 || !found) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve the survey address ", where));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, options.listen_backlog) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("survey pages cannot listen on ", where, " (address in use?)"));
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  std::string ip;
  Address(bound, &ip, &front->port_);

  rlimit files{};
  int max_connections = options.max_connections;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    max_connections = std::min<int64_t>(max_connections, std::max<int64_t>(16, files.rlim_cur - kReservedDescriptors));
  }
  front->loop_ = std::make_unique<Loop>(options, fd, max_connections);
  if (absl::Status s = front->loop_->Init(); !s.ok()) return s;
  front->loop_thread_ = std::thread([loop = front->loop_.get()] { loop->Run(); });
  for (int i = 0; i < std::max(1, options.workers); ++i) {
    front->workers_.emplace_back([f = front.get()] { f->Work(); });
  }
  return front;
}

void HttpFront::Work() {
  Job job;
  while (loop_->NextJob(&job)) {
    Done done;
    done.conn = job.conn;
    BufferStream stream(job.request, &done.response, job.ip, job.port, job.local_ip, job.local_port);
    bool connection_closed = false;
    const bool ok = routes_->process_request(stream, job.last, connection_closed, nullptr);
    const size_t head_end = done.response.find("\r\n\r\n");
    const bool says_close = absl::AsciiStrToLower(done.response.substr(0, head_end)).find("\r\nconnection: close") !=
                            std::string::npos;
    done.close = !ok || job.last || connection_closed || says_close;
    loop_->Finish(std::move(done));
  }
}

HttpFront::~HttpFront() { Stop(); }

void HttpFront::Stop() {
  if (!loop_) return;
  loop_->Stop();
  if (loop_thread_.joinable()) loop_thread_.join();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  loop_.reset();  // closes every connection and the listening socket
}

HttpFront::Counters HttpFront::counters() const { return loop_ ? loop_->counters() : Counters{}; }

}  // namespace dreamshot::services

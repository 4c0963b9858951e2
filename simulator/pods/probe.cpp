#include "pods/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mambogo::sim {

namespace {

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Connects a non-blocking socket; returns an error message, empty on success.
std::string connect_to(const Socket& s, const std::string& host, int port, Clock::time_point deadline) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return "bad IPv4 address \"" + host + "\"";
  if (s.fd() < 0) return std::string("socket: ") + std::strerror(errno);
  ::fcntl(s.fd(), F_SETFL, ::fcntl(s.fd(), F_GETFL) | O_NONBLOCK);
  const std::string target = host + ":" + std::to_string(port);
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return "dial tcp " + target + ": " + std::strerror(errno);
    if (!wait_for(s.fd(), POLLOUT, deadline)) return "dial tcp " + target + ": i/o timeout";
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return "dial tcp " + target + ": connect: " + std::strerror(err);
  }
  return {};
}

}  // namespace

ProbeOutcome http_get(const std::string& host, int port, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (auto error = connect_to(s, host, port, deadline); !error.empty())
    return {false, "Get \"http://" + host + ":" + std::to_string(port) + path + "\": " + error};

  std::string request = "GET " + (path.empty() ? std::string("/") : path) + " HTTP/1.1\r\n";
  bool has_host = false, has_agent = false, has_accept = false;
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
    has_host |= ::strcasecmp(name.c_str(), "Host") == 0;
    has_agent |= ::strcasecmp(name.c_str(), "User-Agent") == 0;
    has_accept |= ::strcasecmp(name.c_str(), "Accept") == 0;
  }
  if (!has_host) request += "Host: " + host + ":" + std::to_string(port) + "\r\n";
  if (!has_agent) request += "User-Agent: kube-probe/1.28\r\n";
  if (!has_accept) request += "Accept: */*\r\n";
  request += "Connection: close\r\n\r\n";

  std::size_t sent = 0;
  while (sent < request.size()) {
    if (!wait_for(s.fd(), POLLOUT, deadline)) return {false, "HTTP probe: timeout sending the request"};
    const auto n = ::send(s.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return {false, std::string("HTTP probe: send: ") + std::strerror(errno)};
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[1024];
  while (response.find("\r\n") == std::string::npos && response.size() < 8192) {
    if (!wait_for(s.fd(), POLLIN, deadline))
      return {false, "Get \"http://" + host + ":" + std::to_string(port) + path +
                         "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"};
    const auto n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return {false, std::string("HTTP probe: recv: ") + std::strerror(errno)};
    }
    response.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  const auto space = response.find(' ');
  if (response.rfind("HTTP/", 0) != 0 || space == std::string::npos)
    return {false, "HTTP probe: malformed response from " + host + ":" + std::to_string(port)};
  const int status = std::atoi(response.c_str() + space + 1);
  if (status >= 200 && status < 400) return {true, {}};
  return {false, "HTTP probe failed with statuscode: " + std::to_string(status)};
}

ProbeOutcome tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (auto error = connect_to(s, host, port, Clock::now() + timeout); !error.empty()) return {false, error};
  return {true, {}};
}

ProbeSettings ProbeSettings::from_json(const Json& probe, double time_scale) {
  ProbeSettings s;
  auto seconds = [&](const char* key, int fallback) {
    auto it = probe.find(key);
    return it != probe.end() && it->is_number() ? it->get<int>() : fallback;
  };
  auto scaled = [&](int secs) { return std::chrono::milliseconds(static_cast<long>(secs * 1000.0 * time_scale)); };
  s.initial_delay = scaled(seconds("initialDelaySeconds", 0));
  s.period = std::max(scaled(seconds("periodSeconds", 10)), std::chrono::milliseconds(10));
  s.timeout = std::chrono::milliseconds(1000L * std::max(1, seconds("timeoutSeconds", 1)));
  s.success_threshold = std::max(1, seconds("successThreshold", 1));
  s.failure_threshold = std::max(1, seconds("failureThreshold", 3));
  return s;
}

ProbeTracker::ProbeTracker(ProbeKind kind, ProbeSettings settings) : kind_(kind), settings_(settings) {
  reset(Clock::now());
}

void ProbeTracker::reset(Clock::time_point started) {
  result_ = kind_ == ProbeKind::liveness;
  known_ = kind_ != ProbeKind::startup;
  last_outcome_ = result_;
  run_ = 0;
  on_hold_ = false;
  next_ = first_due_ = started + settings_.initial_delay;
}

bool ProbeTracker::record(bool success, Clock::time_point now, bool periodic) {
  if (periodic || now >= next_) next_ = now + settings_.period;
  if (run_ > 0 && success == last_outcome_) ++run_;
  else run_ = 1;
  last_outcome_ = success;
  const int threshold = success ? settings_.success_threshold : settings_.failure_threshold;
  if (run_ < threshold || (known_ && success == result_)) return false;
  known_ = true;
  result_ = success;
  if (!success && kind_ != ProbeKind::readiness) {
    on_hold_ = true;  // until the container restarts
    run_ = 0;
  }
  return true;
}

}  // namespace mambogo::sim

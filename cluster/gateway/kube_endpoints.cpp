#include "gateway/kube_endpoints.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "runtime/logging.h"

namespace mambogo::gateway {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
constexpr std::size_t kMaxBodyBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxEventBytes = 4 * 1024 * 1024;
// A watch with nothing happening stays silent; the server ends it after its own timeout.
constexpr std::chrono::minutes kWatchIdle{10};

// OpenSSL's reason for the last failure on this thread (and the queue cleared).
std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "connection closed during the handshake";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

bool is_ip_literal(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

void set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// One HTTP/1.1 exchange over a blocking socket (TLS on it when given a context): headers, then
// the body decoded from Content-Length, chunked, or read-until-close framing, in pieces as they
// arrive.
class Exchange {
 public:
  explicit Exchange(KubeEndpointsWatcher::Connection& published) : published_(published) {}
  ~Exchange() {
    if (ssl_) SSL_free(ssl_);  // no close_notify: the request said Connection: close
    std::lock_guard lock(published_.mutex);
    published_.fd = -1;
    if (fd_ >= 0) ::close(fd_);
  }

  bool open(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
            SSL_CTX* tls, std::string& error) {
    if (!connect(host, port, timeout, error)) return false;
    if (!tls) return true;
    // The server's certificate must chain to the CA and name this host (or IP), as client-go
    // checks; SNI carries a host name, never an IP.
    ssl_ = SSL_new(tls);
    if (!ssl_) {
      error = "cannot make a TLS session: " + openssl_error();
      return false;
    }
    const bool ip = is_ip_literal(host);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    const bool named = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                          : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1 &&
                                SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1;
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
    set_receive_timeout(fd_, timeout);  // the handshake only; later reads wait in poll()
    if (!named || SSL_set_fd(ssl_, fd_) != 1 || SSL_connect(ssl_) != 1) {
      const long verify = SSL_get_verify_result(ssl_);
      error = "TLS with " + host + ":" + std::to_string(port) + " failed: " +
              (verify != X509_V_OK ? std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify)
                                   : openssl_error());
      return false;
    }
    set_receive_timeout(fd_, std::chrono::milliseconds(0));
    return true;
  }

 private:
  bool connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
               std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list) != 0 || !list) {
      error = "cannot resolve " + host;
      return false;
    }
    for (addrinfo* a = list; a && fd_ < 0; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      timeval tv{static_cast<time_t>(timeout.count() / 1000),
                 static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) fd_ = fd;
      else ::close(fd);
    }
    ::freeaddrinfo(list);
    if (fd_ < 0) error = "cannot connect to " + host + ":" + std::to_string(port);
    std::lock_guard lock(published_.mutex);
    if (published_.stopped && fd_ >= 0) {  // stop() came while connecting
      ::close(fd_);
      fd_ = -1;
      error = "stopping";
    }
    published_.fd = fd_;
    return fd_ >= 0;
  }

 public:
  bool send_all(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const std::size_t left = bytes.size() - sent;
      const ssize_t n = ssl_ ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(std::min<std::size_t>(left, 1 << 20)))
                             : ::send(fd_, bytes.data() + sent, left, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads the status line and headers. Returns the status, or 0 on failure.
  int read_head(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (raw_.size() > kMaxHeaderBytes || !fill(deadline)) return 0;
    }
    std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    chunked_ = lower.find("\ntransfer-encoding: chunked") != std::string::npos;
    if (auto p = lower.find("\ncontent-length:"); p != std::string::npos && !chunked_)
      remaining_ = std::atoll(lower.c_str() + p + 16);
    if (head.size() < 12 || !head.starts_with("HTTP/1.")) return 0;
    return std::atoi(head.c_str() + 9);
  }

  // Appends the next decoded body bytes to `out`; false when the body is complete or broken
  // (complete() tells which).
  bool read_body(std::string& out, Clock::time_point deadline) {
    while (!done_) {
      if (!chunked_) {
        if (remaining_ == 0) return finish();
        if (raw_.empty() && !fill(deadline)) return remaining_ < 0 ? finish() : false;
        std::size_t take = remaining_ < 0 ? raw_.size()
                                          : std::min<std::size_t>(raw_.size(), remaining_);
        out.append(raw_, 0, take);
        raw_.erase(0, take);
        if (remaining_ > 0) remaining_ -= static_cast<long long>(take);
        return true;
      }
      if (chunk_left_ == 0) {
        auto eol = raw_.find("\r\n");
        if (eol == std::string::npos) {
          if (raw_.size() > 1024 || !fill(deadline)) return false;
          continue;
        }
        if (eol == 0) {  // the CRLF closing the previous chunk
          raw_.erase(0, 2);
          continue;
        }
        chunk_left_ = std::strtoll(raw_.c_str(), nullptr, 16);
        raw_.erase(0, eol + 2);
        if (chunk_left_ == 0) return finish();
        if (chunk_left_ < 0) return false;
      }
      if (raw_.empty() && !fill(deadline)) return false;
      std::size_t take = std::min<std::size_t>(raw_.size(), chunk_left_);
      out.append(raw_, 0, take);
      raw_.erase(0, take);
      chunk_left_ -= static_cast<long long>(take);
      return true;
    }
    return false;
  }

  bool complete() const { return done_; }

 private:
  bool finish() {
    done_ = true;
    return false;
  }
  bool fill(Clock::time_point deadline) {
    // Bytes TLS has already decrypted are not on the socket any more: no wait for them.
    while (!(ssl_ && SSL_pending(ssl_) > 0)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000))) > 0) break;
    }
    char buf[16384];
    const ssize_t n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    raw_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  KubeEndpointsWatcher::Connection& published_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string raw_;
  bool chunked_ = false;
  long long remaining_ = -1;  // Content-Length left; -1: until close
  long long chunk_left_ = 0;
  bool done_ = false;
};

std::string request_text(const KubeWatchOptions& o, const std::string& target, const std::string& token) {
  const bool v6 = o.api_host.find(':') != std::string::npos;
  std::string r = "GET " + target + " HTTP/1.1\r\nHost: " + (v6 ? "[" + o.api_host + "]" : o.api_host) + ":" +
                  std::to_string(o.api_port) + "\r\nAccept: application/json\r\n" +
                  "User-Agent: mambogo-gateway\r\nConnection: close\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  return r + "\r\n";
}

// The bearer token for the next connection: the file's current content when one is configured.
std::string current_token(const KubeWatchOptions& o) {
  if (o.token_file.empty()) return o.bearer_token;
  std::ifstream in(o.token_file);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

}  // namespace

std::optional<ApiServerUrl> parse_api_server_url(const std::string& url) {
  ApiServerUrl out;
  std::string rest;
  if (url.starts_with("https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) return std::nullopt;
  std::string port;
  if (rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string::npos || close == 1) return std::nullopt;
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      port = rest.substr(close + 2);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const auto colon = rest.find(':');
    if (colon != rest.rfind(':')) return std::nullopt;  // a bare IPv6 address needs brackets
    out.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (out.host.empty()) return std::nullopt;
  if (port.empty()) {
    out.port = out.tls ? 443 : 80;
    return out;
  }
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const long n = std::stol(port);
  if (n < 1 || n > 65535) return std::nullopt;
  out.port = static_cast<std::uint16_t>(n);
  return out;
}

std::vector<EndpointAddress> endpoint_addresses(const json& endpoints, const std::string& port_name) {
  std::vector<EndpointAddress> out;
  if (!endpoints.is_object() || !endpoints.contains("subsets") || !endpoints["subsets"].is_array())
    return out;
  for (const json& subset : endpoints["subsets"]) {
    if (!subset.is_object() || !subset.contains("ports") || !subset["ports"].is_array()) continue;
    std::optional<int> port;
    for (const json& p : subset["ports"]) {
      if (!p.is_object() || !p.contains("port") || !p["port"].is_number_integer()) continue;
      const std::string name = p.value("name", "");
      if (port_name.empty() || name == port_name) {
        port = p["port"].get<int>();
        break;
      }
    }
    if (!port || *port < 1 || *port > 65535 || !subset.contains("addresses") ||
        !subset["addresses"].is_array())
      continue;
    for (const json& a : subset["addresses"])
      if (a.is_object() && a.contains("ip") && a["ip"].is_string())
        out.push_back({a["ip"].get<std::string>(), static_cast<std::uint16_t>(*port)});
  }
  return out;
}

KubeEndpointsWatcher::KubeEndpointsWatcher(KubeWatchOptions options, OnChange on_change,
                                           runtime::Logger& logger)
    : options_(std::move(options)), on_change_(std::move(on_change)), logger_(logger) {}

struct KubeEndpointsWatcher::Tls {
  SSL_CTX* context = nullptr;
  ~Tls() { SSL_CTX_free(context); }
};

KubeEndpointsWatcher::~KubeEndpointsWatcher() { stop(); }

void KubeEndpointsWatcher::start() {
  if (thread_.joinable()) return;
  if (options_.tls && !tls_) {
    tls_ = std::make_unique<Tls>();
    tls_->context = SSL_CTX_new(TLS_client_method());
    if (!tls_->context) {
      tls_error_ = "cannot make a TLS context: " + openssl_error();
    } else {
      SSL_CTX_set_min_proto_version(tls_->context, TLS1_2_VERSION);
      const bool loaded = options_.ca_file.empty()
                              ? SSL_CTX_set_default_verify_paths(tls_->context) == 1
                              : SSL_CTX_load_verify_locations(tls_->context, options_.ca_file.c_str(), nullptr) == 1;
      if (!loaded)
        tls_error_ = "cannot load the CA " + (options_.ca_file.empty() ? std::string("(system default)") : options_.ca_file) +
                     ": " + openssl_error();
    }
  }
  thread_ = std::thread([this] {
    // OpenSSL writes with send() and no MSG_NOSIGNAL: a server gone mid-write must not raise
    // SIGPIPE and kill the gateway. Blocked for this thread only.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    run();
  });
}

void KubeEndpointsWatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  {
    std::lock_guard lock(connection_.mutex);  // the fd cannot be closed (and reused) meanwhile
    connection_.stopped = true;
    if (connection_.fd >= 0) ::shutdown(connection_.fd, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

bool KubeEndpointsWatcher::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_.load();
}

void KubeEndpointsWatcher::publish(const json& endpoints) {
  updates_.fetch_add(1);
  on_change_(endpoint_addresses(endpoints, options_.port_name));
}

void KubeEndpointsWatcher::run() {
  auto backoff = options_.backoff_initial;
  while (!stopping_.load()) {
    std::string version;
    if (list(version)) {
      synced_.store(true);
      backoff = options_.backoff_initial;
      while (!stopping_.load() && watch(version)) {
      }
    } else {
      synced_.store(false);
    }
    if (!wait_for(backoff)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

bool KubeEndpointsWatcher::list(std::string& resource_version) {
  const std::string target = "/api/v1/namespaces/" + options_.namespace_name + "/endpoints/" +
                             options_.endpoints_name;
  Exchange ex(connection_);
  std::string error = tls_error_;
  if (stopping_.load() || !error.empty() ||
      !ex.open(options_.api_host, options_.api_port, options_.io_timeout, tls_ ? tls_->context : nullptr, error) ||
      !ex.send_all(request_text(options_, target, current_token(options_)))) {
    logger_.warn("endpoints list failed", {{"endpoints", options_.endpoints_name}, {"error", error}});
    return false;
  }
  const int status = ex.read_head(options_.io_timeout);
  std::string body;
  const auto deadline = Clock::now() + options_.io_timeout;
  while (body.size() <= kMaxBodyBytes && ex.read_body(body, deadline)) {
  }
  if (status == 404) {  // the Service has no Endpoints object yet: no endpoints
    on_change_({});
    resource_version.clear();
    return true;
  }
  json object = ex.complete() ? json::parse(body, nullptr, false) : json();
  if (status != 200 || !object.is_object()) {
    logger_.warn("endpoints list failed",
                 {{"endpoints", options_.endpoints_name}, {"status", status}});
    return false;
  }
  resource_version = object.value("/metadata/resourceVersion"_json_pointer, std::string());
  publish(object);
  return true;
}

bool KubeEndpointsWatcher::watch(std::string& resource_version) {
  std::string target = "/api/v1/namespaces/" + options_.namespace_name +
                       "/endpoints?fieldSelector=metadata.name%3D" + options_.endpoints_name +
                       "&watch=1&allowWatchBookmarks=true";
  if (!resource_version.empty()) target += "&resourceVersion=" + resource_version;
  Exchange ex(connection_);
  std::string error;
  if (stopping_.load() ||
      !ex.open(options_.api_host, options_.api_port, options_.io_timeout, tls_ ? tls_->context : nullptr, error) ||
      !ex.send_all(request_text(options_, target, current_token(options_))) || ex.read_head(options_.io_timeout) != 200)
    return false;
  std::string pending;
  while (!stopping_.load()) {
    if (!ex.read_body(pending, Clock::now() + kWatchIdle)) return ex.complete();
    std::size_t eol;
    while ((eol = pending.find('\n')) != std::string::npos) {
      json event = json::parse(pending.substr(0, eol), nullptr, false);
      pending.erase(0, eol + 1);
      if (!event.is_object() || !event.contains("object") || !event["object"].is_object()) continue;
      const std::string type = event.value("type", "");
      const json& object = event["object"];
      if (type == "ERROR") {
        logger_.info("endpoints watch error, relisting",
                     {{"endpoints", options_.endpoints_name}, {"status", object}});
        return false;
      }
      const std::string rv = object.value("/metadata/resourceVersion"_json_pointer, std::string());
      if (!rv.empty()) resource_version = rv;
      if (type == "BOOKMARK") continue;
      if (object.value("/metadata/name"_json_pointer, std::string()) != options_.endpoints_name)
        continue;
      if (type == "DELETED") {
        updates_.fetch_add(1);
        on_change_({});
      } else if (type == "ADDED" || type == "MODIFIED") {
        publish(object);
      }
    }
    if (pending.size() > kMaxEventBytes) return false;
  }
  return false;
}

}  // namespace mambogo::gateway

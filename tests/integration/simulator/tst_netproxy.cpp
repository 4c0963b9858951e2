// The service proxy and the NetworkChaos/HTTPChaos controllers over real loopback sockets:
// backends started here play the pods (bound to 127.0.1.N), the Store holds the Service,
// Endpoints and Pod objects a cluster would, clients connect to the Service's cluster IP.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>

#include "netproxy/chaos.h"
#include "netproxy/service_proxy.h"
#include "store/store.h"

using namespace mambogo::sim;
using namespace mambogo::sim::netproxy;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

sockaddr_in address_of(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

// A listening socket on ip:port (0: any free port); returns fd, sets port.
int listen_on(const std::string& ip, std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = address_of(ip, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

std::uint16_t free_port(const std::string& ip) {
  std::uint16_t port = 0;
  int fd = listen_on(ip, port);
  ::close(fd);
  return port;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A pod's server. line: answers each line with "<name> <line>\n", "SEND n" with n bytes, and
// on the client's half-close with "<name> eof\n" before closing. http: answers every HTTP/1.1
// request (keep-alive) with 200 and the body "<name> <method> <path>[ <request body>]", and
// GET /chunked with a chunked body.
class Backend {
 public:
  enum class Kind { line, http };
  Backend(std::string name, std::string ip, Kind kind) : name_(std::move(name)), ip_(std::move(ip)), kind_(kind) {
    listen_fd_ = listen_on(ip_, port_);
    if (listen_fd_ < 0) qFatal("backend cannot listen on %s", ip_.c_str());
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~Backend() {
    stop_ = true;
    acceptor_.join();  // no worker starts after this
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }
  const std::string& ip() const { return ip_; }
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_; }

 private:
  bool wait_readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }
  void accept_loop() {
    while (wait_readable(listen_fd_)) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      workers_.emplace_back([this, fd] {
        kind_ == Kind::line ? serve_lines(fd) : serve_http(fd);
        ::close(fd);
      });
    }
  }
  static bool send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  void serve_lines(int fd) {
    std::string in;
    char buf[4096];
    while (wait_readable(fd)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) {
        send_all(fd, name_ + " eof\n");
        return;
      }
      if (n < 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      for (auto nl = in.find('\n'); nl != std::string::npos; nl = in.find('\n')) {
        std::string line = in.substr(0, nl);
        in.erase(0, nl + 1);
        if (line.rfind("SEND ", 0) == 0) {
          if (!send_all(fd, std::string(std::stoul(line.substr(5)), 'x'))) return;
        } else if (!send_all(fd, name_ + " " + line + "\n")) {
          return;
        }
      }
    }
  }
  void serve_http(int fd) {
    std::string in;
    char buf[4096];
    while (true) {
      auto end = in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (!wait_readable(fd)) return;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      const std::string head = in.substr(0, end);
      const auto cl = head.find("Content-Length: ");
      const std::size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
      while (in.size() < end + 4 + length) {
        if (!wait_readable(fd)) return;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
      }
      const std::string request_body = in.substr(end + 4, length);
      in.erase(0, end + 4 + length);
      const auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
      const std::string path = head.substr(sp1 + 1, sp2 - sp1 - 1);
      const bool close = head.find("Connection: close") != std::string::npos;
      std::string out;
      if (path == "/chunked") {
        out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
      } else {
        const std::string body = name_ + " " + head.substr(0, sp1) + " " + path +
                                 (request_body.empty() ? "" : " " + request_body);
        out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
              (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
      }
      if (!send_all(fd, out) || close) return;
    }
  }

  const std::string name_, ip_;
  const Kind kind_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the accept thread only, until it is joined
};

// A blocking test client with a receive timeout (nothing here waits unbounded).
class Client {
 public:
  Client(const std::string& ip, std::uint16_t port, const std::string& bind_ip = {}, std::chrono::milliseconds timeout = 5s) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!bind_ip.empty()) {
      auto local = address_of(bind_ip, 0);
      ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    }
    auto a = address_of(ip, port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Fills the buffer with at least `want` bytes; false on EOF, error or timeout.
  bool fill(std::size_t want) {
    char buf[65536];
    while (in_.size() < want) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  std::optional<std::string> line() {
    while (in_.find('\n') == std::string::npos)
      if (!fill(in_.size() + 1)) return std::nullopt;
    auto nl = in_.find('\n');
    std::string l = in_.substr(0, nl);
    in_.erase(0, nl + 1);
    return l;
  }
  std::optional<std::string> ask(const std::string& l) {
    if (!send(l + "\n")) return std::nullopt;
    return line();
  }
  // True when the peer closed or reset the connection (not a timeout), with nothing to read.
  bool closed_by_peer() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n > 0) in_.push_back(c);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  struct Response {
    int status = 0;
    std::string body;
  };
  std::optional<Response> response() {
    while (in_.find("\r\n\r\n") == std::string::npos)
      if (!fill(in_.size() + 1)) return std::nullopt;
    const auto end = in_.find("\r\n\r\n");
    const std::string head = in_.substr(0, end);
    Response r;
    r.status = std::stoi(head.substr(9, 3));
    if (head.find("Transfer-Encoding: chunked") != std::string::npos) {  // the raw chunks, as sent
      while (in_.find("\r\n0\r\n\r\n", end) == std::string::npos)
        if (!fill(in_.size() + 1)) return std::nullopt;
      const auto last = in_.find("\r\n0\r\n\r\n", end) + 7;
      r.body = in_.substr(end + 4, last - end - 4);
      in_.erase(0, last);
      return r;
    }
    auto cl = head.find("Content-Length: ");
    std::size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
    if (!fill(end + 4 + length)) return std::nullopt;
    r.body = in_.substr(end + 4, length);
    in_.erase(0, end + 4 + length);
    return r;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};

std::string http_get(const std::string& path, bool close = false) {
  return "GET " + path + " HTTP/1.1\r\nHost: web\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
}

double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median round trip of `n` lines on one connection, in ms; negative when one failed.
double median_round_trip(Client& c, int n = 7) {
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    if (!c.ask("ping")) return -1;
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return median_ms(samples);
}

// One Store with the proxy and the chaos controller, and helpers to create what a cluster has.
class Cluster {
 public:
  Cluster() : proxy_(store, {}) {
    chaos_.start();
    proxy_.start();
    std::random_device rd;
    cluster_ip = "127.0.2." + std::to_string(100 + rd() % 150);
  }
  ~Cluster() {
    chaos_.stop();
    proxy_.stop();
  }

  void add_pod(const std::string& name, const std::string& ip, const Json& labels) {
    store.create("pods", {{"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
                          {"spec", {{"nodeName", "mambogo-local"}}},
                          {"status", {{"phase", "Running"}, {"podIP", ip}}}});
  }
  // A Service "name" on cluster_ip:<free port> with one port named "main".
  std::uint16_t add_service(const std::string& name, const std::string& type = "ClusterIP", std::uint16_t port = 0) {
    if (port == 0) port = free_port(cluster_ip);
    written(store.create("services", {{"metadata", {{"name", name}, {"namespace", "default"}}},
                              {"spec",
                               {{"type", type},
                                {"clusterIP", cluster_ip},
                                {"selector", {{"app", name}}},
                                {"ports", {{{"name", "main"}, {"port", port}, {"protocol", "TCP"}}}}}}}));
    return port;
  }
  // Endpoints "name": one subset per backend (each listens on its own port).
  void set_endpoints(const std::string& name, const std::vector<std::pair<std::string, const Backend*>>& ready,
                     const std::vector<std::pair<std::string, const Backend*>>& not_ready = {}) {
    Json subsets = Json::array();
    auto address = [](const std::string& pod, const Backend* b) {
      return Json{{"ip", b->ip()}, {"targetRef", {{"kind", "Pod"}, {"name", pod}, {"namespace", "default"}}}};
    };
    for (const auto& [pod, b] : ready)
      subsets.push_back({{"addresses", {address(pod, b)}}, {"ports", {{{"name", "main"}, {"port", b->port()}}}}});
    for (const auto& [pod, b] : not_ready)
      subsets.push_back({{"notReadyAddresses", {address(pod, b)}}, {"ports", {{{"name", "main"}, {"port", b->port()}}}}});
    Json object{{"metadata", {{"name", name}, {"namespace", "default"}}}, {"subsets", subsets}};
    written(store.get({"endpoints", "default", name}) ? store.update("endpoints", object)
                                                      : store.create("endpoints", object));
  }
  // Notes a Service or Endpoints change the proxy must have seen before synced() returns.
  void written(const Json& object) { written_ = std::max(written_, resource_version_of(object)); }
  bool synced() {
    return wait_until([&] { return proxy_.synced_version() >= written_; });
  }
  ServiceProxy& proxy() { return proxy_; }

  Json chaos(const std::string& resource, const std::string& kind, const std::string& name, Json spec) {
    return store.create(resource, {{"apiVersion", "chaos-mesh.org/v1alpha1"},
                                   {"kind", kind},
                                   {"metadata", {{"name", name}, {"namespace", "default"}}},
                                   {"spec", std::move(spec)}});
  }
  Json network_chaos(const std::string& name, Json spec) {
    return chaos("networkchaos.chaos-mesh.org", "NetworkChaos", name, std::move(spec));
  }
  Json http_chaos(const std::string& name, Json spec) {
    return chaos("httpchaos.chaos-mesh.org", "HTTPChaos", name, std::move(spec));
  }
  // status.conditions[type].status of a chaos object ("" while absent).
  std::string condition(const std::string& resource, const std::string& name, const std::string& type,
                        std::string* message = nullptr) {
    auto o = store.get({resource, "default", name});
    if (!o) return {};
    for (const auto& c : o->value("status", Json::object()).value("conditions", Json::array()))
      if (c.value("type", "") == type) {
        if (message) *message = c.value("message", "");
        return c.value("status", "");
      }
    return {};
  }
  bool injected(const std::string& resource, const std::string& name) {
    return wait_until([&] { return condition(resource, name, "AllInjected") == "True"; });
  }

  Store store;
  std::string cluster_ip;

 private:
  std::uint64_t written_ = 0;
  ServiceProxy proxy_;
  ChaosController chaos_{store, proxy_, ChaosControllerOptions{200ms}};
};

const char* kNet = "networkchaos.chaos-mesh.org";
const char* kHttp = "httpchaos.chaos-mesh.org";

}  // namespace

class NetproxyTest : public QObject {
  Q_OBJECT

 private slots:
  void roundRobinAcrossReadyEndpoints() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line), b("b", "127.0.1.202", Backend::Kind::line);
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}, {"web-b", &b}});
    QVERIFY(k.synced());
    std::map<std::string, int> seen;
    std::string previous;
    for (int i = 0; i < 6; ++i) {
      Client c(k.cluster_ip, port);
      QVERIFY(c.connected());
      auto reply = c.ask("hello");
      QVERIFY(reply);
      const std::string who = reply->substr(0, reply->find(' '));
      QCOMPARE(*reply, who + " hello");
      QVERIFY2(who != previous, "round robin alternates");
      previous = who;
      ++seen[who];
    }
    QCOMPARE(seen["a"], 3);
    QCOMPARE(seen["b"], 3);
    const auto stats = k.proxy().stats().at("default/web:" + std::to_string(port));
    QCOMPARE(stats.connections, std::uint64_t{6});
    QCOMPARE(stats.errors, std::uint64_t{0});
    QVERIFY(stats.bytes_to_upstream >= 6 * 6);
  }

  void notReadyEndpointsAreSkipped() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line), b("b", "127.0.1.202", Backend::Kind::line);
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}}, {{"web-b", &b}});
    QVERIFY(k.synced());
    for (int i = 0; i < 4; ++i) {
      Client c(k.cluster_ip, port);
      QCOMPARE(c.ask("x").value_or("none"), std::string("a x"));
    }
    QCOMPARE(b.connections(), 0);
    // Endpoint changes apply to new connections.
    k.set_endpoints("web", {{"web-b", &b}});
    QVERIFY(k.synced());
    Client c(k.cluster_ip, port);
    QCOMPARE(c.ask("x").value_or("none"), std::string("b x"));
  }

  void noReadyEndpointClosesAtOnce() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    const auto port = k.add_service("web");
    k.set_endpoints("web", {}, {{"web-a", &a}});
    QVERIFY(k.synced());
    const auto t0 = Clock::now();
    Client c(k.cluster_ip, port);
    c.send("hello\n");
    QVERIFY(c.closed_by_peer());
    QVERIFY(Clock::now() - t0 < 2s);
    QCOMPARE(a.connections(), 0);
    QVERIFY(k.proxy().stats().at("default/web:" + std::to_string(port)).errors >= 1);
  }

  void halfCloseTravelsBothWays() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client c(k.cluster_ip, port);
    QVERIFY(c.send("last words\n"));
    c.shutdown_write();
    QCOMPARE(c.line().value_or("none"), std::string("a last words"));
    QCOMPARE(c.line().value_or("none"), std::string("a eof"));  // the backend saw our FIN, still answered
    QVERIFY(c.closed_by_peer());
  }

  void largeTransferArrivesWhole() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client c(k.cluster_ip, port);
    QVERIFY(c.send("SEND 3000000\n"));
    QVERIFY(c.fill(3'000'000));
    QCOMPARE(k.proxy().stats().at("default/web:" + std::to_string(port)).bytes_to_client, std::uint64_t{3'000'000});
  }

  void removedServiceClosesItsListener() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    QVERIFY(Client(k.cluster_ip, port).connected());
    k.written(k.store.remove({"services", "default", "web"}));
    QVERIFY(k.synced());
    QVERIFY(!Client(k.cluster_ip, port).connected());
  }

  void loadBalancerIsServedOnLocalhost() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    const std::uint16_t port = free_port("127.0.0.1");
    k.add_service("web", "LoadBalancer", port);
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client c("127.0.0.1", port);
    QCOMPARE(c.ask("hi").value_or("none"), std::string("a hi"));
    QVERIFY(wait_until([&] {
      auto s = k.store.get({"services", "default", "web"});
      return s && (*s)["status"]["loadBalancer"].value("ingress", Json::array()) == Json::parse(R"([{"ip":"127.0.0.1"}])");
    }));
  }

  void loadBalancerPortTakenIsAWarning() {
    Cluster k;
    std::uint16_t port = 0;
    const int squatter = listen_on("127.0.0.1", port);
    QVERIFY(squatter >= 0);
    k.add_service("web", "LoadBalancer", port);
    QVERIFY(k.synced());
    const bool warned = wait_until([&] {
      for (const auto& e : k.store.list("events").items)
        if (e.value("type", "") == "Warning" && e.value("reason", "") == "SyncLoadBalancerFailed" &&
            e.value("involvedObject", Json::object()).value("name", "") == "web")
          return true;
      return false;
    });
    ::close(squatter);
    QVERIFY(warned);
    auto s = k.store.get({"services", "default", "web"});
    QVERIFY(!s->value("status", Json::object()).value("loadBalancer", Json::object()).contains("ingress"));
  }

  void nodePortIsServedOnLocalhost() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    const std::uint16_t node_port = free_port("127.0.0.1");
    const std::uint16_t port = free_port(k.cluster_ip);
    k.written(k.store.create("services", {{"metadata", {{"name", "web"}, {"namespace", "default"}}},
                                          {"spec",
                                           {{"type", "NodePort"},
                                            {"clusterIP", k.cluster_ip},
                                            {"ports", {{{"name", "main"}, {"port", port}, {"nodePort", node_port}}}}}}}));
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client c("127.0.0.1", node_port);
    QCOMPARE(c.ask("hi").value_or("none"), std::string("a hi"));
  }

  void networkDelayAddsLatencyUntilDeleted() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client pooled(k.cluster_ip, port);  // opened before the chaos, like a client's pool
    const double before = median_round_trip(pooled);
    QVERIFY(before >= 0);
    k.network_chaos("slow", {{"action", "delay"},
                             {"mode", "all"},
                             {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                             {"delay", {{"latency", "100ms"}}}});
    QVERIFY(k.injected(kNet, "slow"));
    const double pooled_during = median_round_trip(pooled);
    Client fresh(k.cluster_ip, port);
    const double fresh_during = median_round_trip(fresh);
    qInfo("median round trip: %.2f ms before, %.2f ms (pooled) / %.2f ms (new) with 100ms delay", before,
          pooled_during, fresh_during);
    QVERIFY(pooled_during > before + 70 && pooled_during < before + 130);
    QVERIFY(fresh_during > before + 70 && fresh_during < before + 130);
    auto status = k.store.get({kNet, "default", "slow"})->at("status");
    QCOMPARE(status["experiment"]["containerRecords"][0]["id"], "default/web-a");
    QCOMPARE(status["experiment"]["containerRecords"][0]["phase"], "Injected");

    k.store.remove({kNet, "default", "slow"});
    QVERIFY(wait_until([&] {
      const double rtt = median_round_trip(pooled);
      return rtt >= 0 && rtt < before + 30;
    }));
    Client after(k.cluster_ip, port);
    const double rtt = median_round_trip(after);
    QVERIFY(rtt >= 0 && rtt < before + 30);
  }

  void lossOfAllPacketsCuts() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client open(k.cluster_ip, port);
    QVERIFY(open.ask("hi"));
    k.network_chaos("lossy", {{"action", "loss"}, {"mode", "one"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                              {"loss", {{"loss", "100"}}}});
    QVERIFY(k.injected(kNet, "lossy"));
    QVERIFY(open.closed_by_peer());
    Client c(k.cluster_ip, port);
    c.send("hi\n");
    QVERIFY(c.closed_by_peer());
    QVERIFY(k.proxy().stats().at("default/web:" + std::to_string(port)).chaos_dropped >= 2);
  }

  void partitionRefusesAndCutsExisting() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client open(k.cluster_ip, port);
    QVERIFY(open.ask("hi"));
    k.network_chaos("split", {{"action", "partition"}, {"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}}});
    QVERIFY(k.injected(kNet, "split"));
    QVERIFY(open.closed_by_peer());
    Client refused(k.cluster_ip, port);
    refused.send("hi\n");
    QVERIFY(refused.closed_by_peer());
    QCOMPARE(a.connections(), 1);  // the refused one never reached the pod
    k.store.remove({kNet, "default", "split"});
    QVERIFY(wait_until([&] { return Client(k.cluster_ip, port).ask("back").has_value(); }));
  }

  void targetLimitsChaosToTrafficBetweenThePods() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    k.add_pod("client-1", "127.0.1.211", {{"app", "client"}, {"role", "target"}});
    k.add_pod("client-2", "127.0.1.212", {{"app", "client"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.network_chaos("split", {{"action", "partition"},
                              {"mode", "all"},
                              {"direction", "both"},
                              {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                              {"target", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"role", "target"}}}}}}}});
    QVERIFY(k.injected(kNet, "split"));
    Client from_target(k.cluster_ip, port, "127.0.1.211");
    from_target.send("hi\n");
    QVERIFY(from_target.closed_by_peer());
    Client from_other(k.cluster_ip, port, "127.0.1.212");
    QCOMPARE(from_other.ask("hi").value_or("none"), std::string("a hi"));
    // From an address no pod has, the rule acts on all traffic to the selected pod, and says so.
    Client unknown(k.cluster_ip, port, "127.0.0.1");
    unknown.send("hi\n");
    QVERIFY(unknown.closed_by_peer());
    std::string message;
    QVERIFY(wait_until([&] {
      return k.condition(kNet, "split", "AllInjected", &message) == "True" && message.find("unknown") != std::string::npos;
    }));
    auto records = k.store.get({kNet, "default", "split"})->at("status")["experiment"]["containerRecords"];
    QCOMPARE(records.size(), std::size_t{2});
    QCOMPARE(records[1]["id"], "default/client-1");
    QCOMPARE(records[1]["selectorKey"], ".Target");
  }

  void bandwidthLimitsATransfer() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    auto transfer = [&] {
      Client c(k.cluster_ip, port, {}, 10s);
      const auto t0 = Clock::now();
      if (!c.send("SEND 1000000\n") || !c.fill(1'000'000)) return -1.0;
      return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    const double free_seconds = transfer();
    QVERIFY(free_seconds >= 0 && free_seconds < 0.5);
    k.network_chaos("thin", {{"action", "bandwidth"},
                             {"mode", "all"},
                             {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                             {"bandwidth", {{"rate", "1mbps"}, {"limit", 20000}, {"buffer", 10000}}}});
    QVERIFY(k.injected(kNet, "thin"));
    const double limited = transfer();
    qInfo("1 MB: %.3f s unlimited, %.3f s at 1mbps (1 MB/s)", free_seconds, limited);
    QVERIFY(limited > 0.7 && limited < 4.0);
  }

  void httpReplaceCodeAnswersMatchedPathsOnly() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::http);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.http_chaos("unavailable", {{"mode", "all"},
                                 {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                                 {"target", "Request"},
                                 {"port", a.port()},
                                 {"path", "/api/*"},
                                 {"replace", {{"code", 503}}}});
    QVERIFY(k.injected(kHttp, "unavailable"));
    Client c(k.cluster_ip, port);
    // Pipelined on one keep-alive connection: answers come back in request order.
    QVERIFY(c.send(http_get("/health") + http_get("/api/products/7") + http_get("/health?x=1")));
    auto first = c.response(), second = c.response(), third = c.response();
    QVERIFY(first && second && third);
    QCOMPARE(first->status, 200);
    QCOMPARE(first->body, std::string("a GET /health"));
    QCOMPARE(second->status, 503);
    const Json error = Json::parse(second->body);
    QCOMPARE(error["error"], "chaos");
    QVERIFY(error["message"].get<std::string>().find("unavailable") != std::string::npos);
    QCOMPARE(third->status, 200);
    QCOMPARE(third->body, std::string("a GET /health?x=1"));
    // The replaced request alone, then the connection still serves.
    QVERIFY(c.send(http_get("/api/cart")));
    QCOMPARE(c.response().value_or(Client::Response{}).status, 503);
    QVERIFY(c.send(http_get("/ok")));
    QCOMPARE(c.response().value_or(Client::Response{}).status, 200);
  }

  void httpBodiesAndChunksPassThrough() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::http);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.http_chaos("no-orders", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                               {"target", "Request"}, {"method", "POST"}, {"path", "/api/*"}, {"replace", {{"code", 503}}}});
    QVERIFY(k.injected(kHttp, "no-orders"));
    Client c(k.cluster_ip, port);
    // A replaced request's body must not leak into the next request; chunks arrive as sent.
    QVERIFY(c.send("POST /api/orders HTTP/1.1\r\nHost: web\r\nContent-Length: 11\r\n\r\nhello world" +
                   http_get("/chunked") + "POST /echo HTTP/1.1\r\nHost: web\r\nContent-Length: 3\r\n\r\nabc"));
    auto replaced = c.response(), chunked = c.response(), echoed = c.response();
    QVERIFY(replaced && chunked && echoed);
    QCOMPARE(replaced->status, 503);
    QCOMPARE(chunked->status, 200);
    QCOMPARE(chunked->body, std::string("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
    QCOMPARE(echoed->status, 200);
    QCOMPARE(echoed->body, std::string("a POST /echo abc"));
    QCOMPARE(a.connections(), 1);
  }

  void httpResponseCodeIsReplaced() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::http);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.http_chaos("teapot", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}}, {"target", "Response"},
                            {"method", "GET"}, {"replace", {{"code", 418}}}});
    QVERIFY(k.injected(kHttp, "teapot"));
    Client c(k.cluster_ip, port);
    QVERIFY(c.send(http_get("/anything")));
    auto r = c.response();
    QVERIFY(r);
    QCOMPARE(r->status, 418);
    QCOMPARE(r->body, std::string("a GET /anything"));  // the pod answered, only the status changed
  }

  void httpAbortClosesWithoutAnswer() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::http);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.http_chaos("cut", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}}, {"target", "Request"},
                         {"path", "/api/*"}, {"abort", true}});
    QVERIFY(k.injected(kHttp, "cut"));
    Client ok(k.cluster_ip, port);
    QVERIFY(ok.send(http_get("/health")));
    QCOMPARE(ok.response().value_or(Client::Response{}).status, 200);
    Client c(k.cluster_ip, port);
    QVERIFY(c.send(http_get("/api/orders")));
    QVERIFY(!c.response());
    QVERIFY(c.closed_by_peer());
  }

  void httpDelayDelaysMatchedRequests() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::http);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.http_chaos("slow", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}}, {"target", "Request"},
                          {"path", "/slow"}, {"delay", "300ms"}});
    QVERIFY(k.injected(kHttp, "slow"));
    Client c(k.cluster_ip, port);
    auto timed = [&](const std::string& path) {
      const auto t0 = Clock::now();
      if (!c.send(http_get(path)) || c.response().value_or(Client::Response{}).status != 200) return -1.0;
      return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    };
    const double fast = timed("/fast"), slow = timed("/slow");
    qInfo("HTTP delay: %.1f ms unmatched, %.1f ms matched (300ms)", fast, slow);
    QVERIFY(fast >= 0 && fast < 150);
    QVERIFY(slow >= 280 && slow < 1500);
  }

  void idlePooledConnectionIsReopenedForHttpChaos() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::http);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    Client pooled(k.cluster_ip, port);
    QVERIFY(pooled.send(http_get("/warm")));
    QCOMPARE(pooled.response().value_or(Client::Response{}).status, 200);
    k.http_chaos("unavailable", {{"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "web"}}}}},
                                 {"target", "Request"}, {"replace", {{"code", 503}}}});
    QVERIFY(k.injected(kHttp, "unavailable"));
    QVERIFY(pooled.closed_by_peer());  // closed while idle, as a server closes a keep-alive connection
    Client fresh(k.cluster_ip, port);
    QVERIFY(fresh.send(http_get("/x")));
    QCOMPARE(fresh.response().value_or(Client::Response{}).status, 503);
  }

  void chaosWithDurationRecoversByItself() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    const auto t0 = Clock::now();
    k.network_chaos("brief", {{"action", "partition"}, {"mode", "all"}, {"duration", "1s"},
                              {"selector", {{"labelSelectors", {{"app", "web"}}}}}});
    QVERIFY(k.injected(kNet, "brief"));
    Client refused(k.cluster_ip, port);
    refused.send("hi\n");
    QVERIFY(refused.closed_by_peer());
    QVERIFY(wait_until([&] { return k.condition(kNet, "brief", "AllRecovered") == "True"; }, 6s));
    QVERIFY(Clock::now() - t0 >= 900ms);
    auto status = k.store.get({kNet, "default", "brief"})->at("status");
    QCOMPARE(status["experiment"]["desiredPhase"], "Stop");
    QCOMPARE(status["experiment"]["containerRecords"][0]["phase"], "Recovered");
    QVERIFY(wait_until([&] {  // Chaos Mesh's events on the experiment, recorded after the status
      std::set<std::string> reasons;
      for (const auto& e : k.store.list("events").items)
        if (e.value("involvedObject", Json::object()).value("name", "") == "brief") reasons.insert(e.value("reason", ""));
      return reasons.count("Applied") && reasons.count("Recovered");
    }));
    Client after(k.cluster_ip, port);
    QCOMPARE(after.ask("back").value_or("none"), std::string("a back"));
  }

  void malformedChaosSaysWhyAndChangesNothing() {
    Cluster k;
    Backend a("a", "127.0.1.201", Backend::Kind::line);
    k.add_pod("web-a", a.ip(), {{"app", "web"}});
    const auto port = k.add_service("web");
    k.set_endpoints("web", {{"web-a", &a}});
    QVERIFY(k.synced());
    k.network_chaos("typo", {{"action", "delay"}, {"mode", "all"}, {"duration", "ten seconds"},
                             {"selector", {{"labelSelectors", {{"app", "web"}}}}}, {"delay", {{"latency", "100ms"}}}});
    std::string message;
    QVERIFY(wait_until([&] { return k.condition(kNet, "typo", "AllInjected", &message) == "False"; }));
    QVERIFY2(message.find("spec.duration") != std::string::npos && message.find("ten seconds") != std::string::npos,
             message.c_str());
    Client c(k.cluster_ip, port);
    const double rtt = median_round_trip(c);
    QVERIFY(rtt >= 0 && rtt < 50);
    // No pod matches: Selected False, and nothing else happens.
    k.network_chaos("nobody", {{"action", "partition"}, {"mode", "all"}, {"selector", {{"labelSelectors", {{"app", "none"}}}}}});
    QVERIFY(wait_until([&] { return k.condition(kNet, "nobody", "Selected", &message) == "False"; }));
    QCOMPARE(message, std::string("no pod is selected"));
    QCOMPARE(Client(k.cluster_ip, port).ask("still").value_or("none"), std::string("a still"));
  }
};

QTEST_GUILESS_MAIN(NetproxyTest)
#include "tst_netproxy.moc"

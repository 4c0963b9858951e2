// Added latency of the service proxy (simulator/netproxy) versus a direct call to the pod it
// forwards to, both measured in this run against the same echo backend on 127.0.1.250:
//   - kept-alive connection: one 64-byte request, its 64-byte echo (what a pooled HTTP client
//     pays per request);
//   - new connection: connect, one round trip, close (what a client without a pool pays).
// Direct and proxied samples alternate in blocks so machine noise hits both alike. Prints
// p50/p99, the added latency and the ratio; fails only when the proxy does not forward.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "netproxy/service_proxy.h"
#include "store/store.h"

using namespace mambogo::sim;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMessage = 64;

sockaddr_in address_of(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Echoes every byte back, one thread per connection (a pod's server, at its simplest).
class EchoServer {
 public:
  explicit EchoServer(const std::string& ip) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = address_of(ip, 0);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0)
      qFatal("echo server cannot listen on %s", ip.c_str());
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  bool readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }
  void accept_loop() {
    while (readable(fd_)) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      no_delay(c);
      // Finished workers are joined as we go, so a long run keeps few threads around.
      workers_.emplace_back([this, c] {
        char buf[4096];
        while (readable(c)) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0 || ::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
        }
        ::close(c);
        ++finished_;
      });
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> finished_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the accept thread only, until it is joined
};

int connect_to(const std::string& ip, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  no_delay(fd);
  auto a = address_of(ip, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool round_trip(int fd) {
  static const std::string message(kMessage, 'm');
  if (::send(fd, message.data(), kMessage, MSG_NOSIGNAL) != static_cast<ssize_t>(kMessage)) return false;
  char buf[kMessage];
  std::size_t got = 0;
  while (got < kMessage) {
    ssize_t n = ::recv(fd, buf + got, kMessage - got, 0);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Percentiles {
  double p50, p99;
};
Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

void report(const char* what, const std::vector<double>& direct, const std::vector<double>& proxied) {
  const auto d = percentiles(direct), p = percentiles(proxied);
  qInfo("%s, %zu samples each:", what, direct.size());
  qInfo("  direct   p50 %8.1f us   p99 %8.1f us", d.p50, d.p99);
  qInfo("  proxied  p50 %8.1f us   p99 %8.1f us", p.p50, p.p99);
  qInfo("  added    p50 %8.1f us   p99 %8.1f us   ratio proxied/direct p50 %.2f  p99 %.2f", p.p50 - d.p50,
        p.p99 - d.p99, p.p50 / d.p50, p.p99 / d.p99);
}

}  // namespace

class ClusterProxyBench : public QObject {
  Q_OBJECT

 private slots:
  void addedLatencyOfTheServiceProxy() {
    const std::string pod_ip = "127.0.1.250", cluster_ip = "127.0.2.250";
    EchoServer echo(pod_ip);
    Store store;
    netproxy::ServiceProxy proxy(store);
    proxy.start();
    int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = address_of(cluster_ip, 0);
    QVERIFY(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(probe);
    const std::uint16_t service_port = ntohs(a.sin_port);
    store.create("services", {{"metadata", {{"name", "echo"}, {"namespace", "default"}}},
                              {"spec", {{"clusterIP", cluster_ip}, {"ports", {{{"name", "echo"}, {"port", service_port}}}}}}});
    const Json eps = store.create(
        "endpoints", {{"metadata", {{"name", "echo"}, {"namespace", "default"}}},
                      {"subsets", {{{"addresses", {{{"ip", pod_ip}}}}, {"ports", {{{"name", "echo"}, {"port", echo.port()}}}}}}}});
    for (int i = 0; i < 500 && proxy.synced_version() < resource_version_of(eps); ++i) std::this_thread::sleep_for(10ms);
    QVERIFY(proxy.synced_version() >= resource_version_of(eps));

    // Kept-alive connections.
    const int direct = connect_to(pod_ip, echo.port()), proxied = connect_to(cluster_ip, service_port);
    QVERIFY(direct >= 0 && proxied >= 0);
    constexpr int kBlocks = 20, kPerBlock = 1000, kWarmup = 2000;
    for (int i = 0; i < kWarmup; ++i) QVERIFY(round_trip(direct) && round_trip(proxied));
    std::vector<double> d, p;
    d.reserve(kBlocks * kPerBlock);
    p.reserve(kBlocks * kPerBlock);
    for (int b = 0; b < kBlocks; ++b)
      for (auto [fd, out] : {std::pair{direct, &d}, std::pair{proxied, &p}})
        for (int i = 0; i < kPerBlock; ++i) {
          const auto t0 = Clock::now();
          QVERIFY(round_trip(fd));
          out->push_back(micros(Clock::now() - t0));
        }
    ::close(direct);
    ::close(proxied);
    report("kept-alive connection, 64-byte round trip", d, p);
    const double added_p50 = percentiles(p).p50 - percentiles(d).p50;

    // New connection per call.
    constexpr int kConnBlocks = 10, kConnPerBlock = 100;
    std::vector<double> dc, pc;
    for (int b = 0; b < kConnBlocks; ++b)
      for (auto [ip, port, out] : {std::tuple{pod_ip, echo.port(), &dc}, std::tuple{cluster_ip, service_port, &pc}})
        for (int i = 0; i < kConnPerBlock; ++i) {
          const auto t0 = Clock::now();
          const int fd = connect_to(ip, port);
          QVERIFY(fd >= 0);
          const bool ok = round_trip(fd);
          ::close(fd);
          QVERIFY(ok);
          out->push_back(micros(Clock::now() - t0));
        }
    report("new connection: connect + 64-byte round trip + close", dc, pc);

    const auto stats = proxy.stats().at("default/echo:" + std::to_string(service_port));
    qInfo("proxy counted %llu connections, %llu errors", static_cast<unsigned long long>(stats.connections),
          static_cast<unsigned long long>(stats.errors));
    QCOMPARE(stats.errors, std::uint64_t{0});
    qInfo("goal: added latency under 50 us at p50 (kept-alive): %s (%.1f us)", added_p50 < 50 ? "met" : "NOT met",
          added_p50);
  }
};

QTEST_GUILESS_MAIN(ClusterProxyBench)
#include "bench_cluster_proxy.moc"

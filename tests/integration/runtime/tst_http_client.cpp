// HttpClient against real servers on 127.0.0.1, port 0: runtime::HttpServer for the pool's
// behaviour, and a scripted raw-socket server for the failures a well-behaved server never
// shows (closing a kept-alive connection with a request unanswered, half a response).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <QScopeGuard>
#include <QTest>

#include <boost/asio.hpp>

#include "loop_thread.h"
#include "runtime/executor.h"
#include "runtime/http_client.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace {

// runtime::HttpServer with the routes the tests need.
//   GET /peer      -> the client's "ip:port", so a test sees which connection carried it
//   GET /slow?ms=N -> the same after N ms on the executor; counts concurrent requests
//   GET /bye       -> like /peer, with Connection: close
//   POST /echo     -> the body back, and X-Test echoed as X-Echo
class TestServer {
 public:
  explicit TestServer(std::chrono::milliseconds idle_timeout = 60s) {
    router_.add(Method::get, "/peer",
                [](const Request& r) { return Response::text(200, r.remote_address); });
    router_.add(
        Method::get, "/slow",
        [this](const Request& r) {
          const int now = ++in_slow_;
          int seen = max_in_slow_.load();
          while (now > seen && !max_in_slow_.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(r.query_param("ms").value_or("0"))));
          --in_slow_;
          return Response::text(200, r.remote_address);
        },
        Dispatch::blocking);
    router_.add(Method::get, "/bye", [](const Request& r) {
      Response response = Response::text(200, r.remote_address);
      response.close_connection = true;
      return response;
    });
    router_.add(Method::post, "/echo", [](const Request& r) {
      return Response::text(201, r.body).with_header("X-Echo", std::string(r.header("X-Test").value_or("")));
    });
    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.idle_timeout = idle_timeout;
    options.access_log = false;
    server_ = std::make_unique<HttpServer>(options, router_, &executor_, metrics_, logger_);
    server_->start();
  }

  std::uint16_t port() const { return server_->port(); }
  int max_concurrent_slow() const { return max_in_slow_.load(); }

 private:
  std::atomic<int> in_slow_{0};
  std::atomic<int> max_in_slow_{0};
  Router router_;
  BoundedExecutor executor_{ExecutorOptions{"test", 8, 8, 64, 60s, RejectionPolicy::reject}, nullptr};
  MetricsRegistry metrics_;
  Logger logger_{"test-server", LogLevel::off};
  std::unique_ptr<HttpServer> server_;  // last: stopped before what it uses goes away
};

// Collects on_done results from the client's I/O thread.
class Results {
 public:
  std::function<void(ClientResult)> sink() {
    return [this](ClientResult r) {
      std::lock_guard lock(mutex_);
      got_.push_back(std::move(r));
      arrived_.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, limit, [&] { return got_.size() >= n; });
  }
  std::vector<ClientResult> take() {
    std::lock_guard lock(mutex_);
    return std::move(got_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<ClientResult> got_;
};

// A blocking HTTP/1.1 server on a raw socket, one connection at a time, doing what the
// script says for each request: answer, close without a word, or close mid-response.
class ScriptedServer {
 public:
  enum class Act {
    respond,
    close_silently,
    respond_partially,
    respond_after_interim,     // a 100 Continue, then (separately written) the answer
    respond_with_huge_header,  // an 8 KiB header line
    respond_malformed,         // a status line that is not HTTP
  };
  using Script = std::function<Act(int connection, int request_on_connection)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 16) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  // Waits up to 50 ms for fd to become readable; false on timeout or stop.
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 50) > 0;
  }

  void run() {
    while (!stop_) {
      if (!readable(listener_)) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd, connections_++);
      ::close(fd);
    }
  }

  void serve(int fd, int connection) {
    std::string in;
    for (int request = 0; !stop_; ++request) {
      // Read one request head (the tests send no bodies), for at most 2 s.
      std::size_t end = std::string::npos;
      for (int waits = 0; end == std::string::npos && waits < 40 && !stop_; ++waits) {
        if (!readable(fd)) continue;
        char buf[4096];
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
        end = in.find("\r\n\r\n");
      }
      if (end == std::string::npos) return;
      in.erase(0, end + 4);
      ++requests_;
      switch (script_(connection, request)) {
        case Act::respond: write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); break;
        case Act::close_silently: return;
        case Act::respond_partially: write_all(fd, "HTTP/1.1 200 OK\r\nContent-Le"); return;
        case Act::respond_after_interim:
          write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
          break;
        case Act::respond_with_huge_header:
          write_all(fd, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(8192, 'b') + "\r\nContent-Length: 2\r\n\r\nok");
          return;
        case Act::respond_malformed: write_all(fd, "HTTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok"); return;
      }
    }
  }

  static void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
      const auto n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  Script script_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A TCP socket on 127.0.0.1 that is bound but not listening: connecting to it is refused,
// and nobody else can take the port while it lives.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

UpstreamOptions upstream_to(std::uint16_t port, std::string name = "svc") {
  UpstreamOptions o;
  o.name = std::move(name);
  o.host = "127.0.0.1";
  o.port = port;
  o.connect_timeout = 500ms;
  o.request_timeout = 1500ms;
  return o;
}

OutgoingRequest get(std::string target) {
  OutgoingRequest r;
  r.method = Method::get;
  r.target = std::move(target);
  return r;
}

// Value of the first sample of `name` whose labels include every `k="v"` given; NaN if none.
double sample(const std::string& text, const std::string& name,
              const std::vector<std::string>& labels) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    const std::string label_block = line.substr(0, line.rfind(' '));
    bool all = true;
    for (const auto& l : labels) all = all && label_block.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nan("");
}

std::chrono::milliseconds ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

using mambogo::test::LoopThread;

struct LoopAnswer {
  ClientResult result;
  std::thread::id completed_on;
};

// send() made on `loop`; waits (bounded) for on_done.
LoopAnswer send_on(LoopThread& loop, HttpClient& client, Upstream& upstream, std::string target) {
  auto promise = std::make_shared<std::promise<LoopAnswer>>();
  auto future = promise->get_future();
  loop.post([&client, &upstream, target = std::move(target), promise] {
    client.send(upstream, get(target), [promise](ClientResult r) {
      promise->set_value({std::move(r), std::this_thread::get_id()});
    });
  });
  if (future.wait_for(10s) != std::future_status::ready) throw std::runtime_error("no answer within 10 s");
  return future.get();
}

}  // namespace

class TestHttpClient : public QObject {
  Q_OBJECT

 private slots:
  void reusesKeepAliveConnection();
  void leavesFromThePodsOwnAddress();
  void sendsBodyAndHeadersAndReadsResponse();
  void largeBodiesTravelIntactBothWays();
  void honoursConnectionCloseFromServer();
  void respectsMaxConnections();
  void overflowFailsFastWhenPendingFull();
  void requestTimeoutFires();
  void queuedRequestTimesOutWaitingForConnection();
  void connectFailsToClosedPort();
  void connectTimeoutFiresWhenSynIsDropped();
  void replacesKeepAliveClosedByServer();
  void retriesOnceOnStaleKeepAlive();
  void givesUpAfterOneRetry();
  void doesNotRetryAfterPartialResponse();
  void skipsInterimResponses();
  void refusesOversizedOrMalformedResponseHeaders();
  void metricsReflectPool();
  void shutdownCompletesEverythingWithShuttingDown();
  void callOnIoThreadThrows();
  void sameNameReturnsSamePool();
  void callerThreadModeCompletesOnTheCallingLoop();
  void callerThreadModeKeepsOnePoolPerLoop();
  void callerThreadModeServesOtherThreadsFromItsOwn();
  void callerThreadModeBoundsEachLoopsPool();
  void callerThreadModeShutdownAnswersInFlight_data();
  void callerThreadModeShutdownAnswersInFlight();
};

void TestHttpClient::reusesKeepAliveConnection() {
  TestServer server;
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  std::set<std::string> peers;
  for (int i = 0; i < 10; ++i) {
    ClientResult r = client.call(upstream, get("/peer"));
    QVERIFY2(r.ok(), r.message.c_str());
    QCOMPARE(r.response.status, 200);
    peers.insert(r.response.body);
  }
  QCOMPARE(peers.size(), std::size_t{1});
  const UpstreamStats stats = upstream.stats();
  QCOMPARE(stats.connections_opened, std::uint64_t{1});
  QCOMPARE(stats.idle_connections, 1);
  QCOMPARE(stats.active_connections, 0);
}

// A pod of mambogo-cluster has its own 127.0.1.N; its calls must leave from it so that the
// service proxy can tell which pod sent them (NetworkChaos between pods).
void TestHttpClient::leavesFromThePodsOwnAddress() {
  TestServer server;
  HttpClient client({}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.local_address = "127.0.1.77";
  ClientResult r = client.call(client.upstream(options), get("/peer"));
  QVERIFY2(r.ok(), r.message.c_str());
  QVERIFY2(r.response.body.starts_with("127.0.1.77:"), r.response.body.c_str());

  // Without one the kernel chooses (127.0.0.1 towards 127.0.0.1).
  options.name = "unbound";
  options.local_address.clear();
  r = client.call(client.upstream(options), get("/peer"));
  QVERIFY2(r.ok() && r.response.body.starts_with("127.0.0.1:"), r.response.body.c_str());

  // The default comes from $POD_IP, and only a loopback one: a real pod's IP needs no binding.
  const auto restore = qScopeGuard([] { ::unsetenv("POD_IP"); });
  ::setenv("POD_IP", "127.0.1.78", 1);
  QCOMPARE(UpstreamOptions{}.local_address, std::string("127.0.1.78"));
  ::setenv("POD_IP", "10.244.1.7", 1);
  QCOMPARE(UpstreamOptions{}.local_address, std::string());
  ::setenv("POD_IP", "not-an-ip", 1);
  QCOMPARE(UpstreamOptions{}.local_address, std::string());
  ::unsetenv("POD_IP");
  QCOMPARE(UpstreamOptions{}.local_address, std::string());
}

void TestHttpClient::sendsBodyAndHeadersAndReadsResponse() {
  TestServer server;
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  OutgoingRequest request;
  request.method = Method::post;
  request.target = "/echo";
  request.headers = {{"X-Test", "forty-two"}, {"Content-Length", "999"}};
  request.body = R"({"sku":"A-1","quantity":2})";
  ClientResult r = client.call(upstream, request);
  QVERIFY2(r.ok(), r.message.c_str());
  QCOMPARE(r.response.status, 201);
  QCOMPARE(r.response.body, request.body);
  QCOMPARE(r.response.content_type, std::string("text/plain; charset=utf-8"));
  bool echoed = false;
  for (const auto& h : r.response.headers) echoed = echoed || (iequals(h.name, "X-Echo") && h.value == "forty-two");
  QVERIFY(echoed);
  QVERIFY(!r.response.close_connection);
  QVERIFY(r.elapsed > 0ns);
}

// Bodies beyond one socket buffer: the request cannot be written at once, nor the response
// parsed from what came with its header; both carry on asynchronously, byte for byte.
void TestHttpClient::largeBodiesTravelIntactBothWays() {
  TestServer server;
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));
  OutgoingRequest request;
  request.method = Method::post;
  request.target = "/echo";
  request.body.resize(1000 * 1000);  // under the server's 1 MiB body limit
  for (std::size_t i = 0; i < request.body.size(); ++i) request.body[i] = static_cast<char>('A' + (i * 31) % 26);
  for (int round = 0; round < 2; ++round) {  // a fresh connection, then the pooled one
    ClientResult r = client.call(upstream, request);
    QVERIFY2(r.ok(), r.message.c_str());
    QCOMPARE(r.response.status, 201);
    QCOMPARE(r.response.body.size(), request.body.size());
    QVERIFY(r.response.body == request.body);
  }
  QCOMPARE(upstream.stats().connections_opened, std::uint64_t{1});
}

void TestHttpClient::honoursConnectionCloseFromServer() {
  TestServer server;
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  ClientResult bye = client.call(upstream, get("/bye"));
  QVERIFY2(bye.ok(), bye.message.c_str());
  QVERIFY(bye.response.close_connection);
  QCOMPARE(upstream.stats().idle_connections, 0);
  ClientResult next = client.call(upstream, get("/peer"));
  QVERIFY2(next.ok(), next.message.c_str());
  QVERIFY(next.response.body != bye.response.body);
  QCOMPARE(upstream.stats().connections_opened, std::uint64_t{2});
  QCOMPARE(upstream.stats().retries, std::uint64_t{0});
}

void TestHttpClient::respectsMaxConnections() {
  TestServer server;
  HttpClient client({}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.max_connections = 2;
  options.max_pending_requests = 16;
  Upstream& upstream = client.upstream(options);

  Results results;
  for (int i = 0; i < 6; ++i) client.send(upstream, get("/slow?ms=60"), results.sink());
  QVERIFY(results.wait_for(6, 2s));

  std::set<std::string> peers;
  for (const auto& r : results.take()) {
    QVERIFY2(r.ok(), r.message.c_str());
    peers.insert(r.response.body);
  }
  QCOMPARE(server.max_concurrent_slow(), 2);
  QCOMPARE(peers.size(), std::size_t{2});
  QCOMPARE(upstream.stats().connections_opened, std::uint64_t{2});
  QCOMPARE(upstream.stats().idle_connections, 2);
}

void TestHttpClient::overflowFailsFastWhenPendingFull() {
  TestServer server;
  HttpClient client({}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.max_connections = 1;
  options.max_pending_requests = 1;
  Upstream& upstream = client.upstream(options);

  Results results;
  // In order on the upstream's thread: the first takes the connection, the second waits,
  // the third finds both full.
  for (int i = 0; i < 3; ++i) client.send(upstream, get("/slow?ms=250"), results.sink());
  QVERIFY(results.wait_for(3, 2s));
  const auto got = results.take();
  // First to complete, long before the connection frees up: it waited for nothing.
  QCOMPARE(got[0].error, ClientError::overflow);
  QVERIFY2(got[0].elapsed < 200ms, std::to_string(ms(got[0].elapsed).count()).c_str());
  QVERIFY(!got[0].message.empty());
  QVERIFY2(got[1].ok(), got[1].message.c_str());
  QVERIFY2(got[2].ok(), got[2].message.c_str());
  QCOMPARE(upstream.stats().overflows, std::uint64_t{1});
  QCOMPARE(server.max_concurrent_slow(), 1);
}

void TestHttpClient::requestTimeoutFires() {
  TestServer server;
  HttpClient client({}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.request_timeout = 150ms;
  Upstream& upstream = client.upstream(options);

  ClientResult r = client.call(upstream, get("/slow?ms=600"));
  QCOMPARE(r.error, ClientError::timeout);
  QVERIFY2(r.elapsed >= 150ms && r.elapsed < 550ms, std::to_string(ms(r.elapsed).count()).c_str());
  // A connection abandoned mid-exchange is never handed to the next request.
  QCOMPARE(upstream.stats().idle_connections, 0);
  QCOMPARE(upstream.stats().active_connections, 0);
}

void TestHttpClient::queuedRequestTimesOutWaitingForConnection() {
  TestServer server;
  HttpClient client({}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.max_connections = 1;
  options.request_timeout = 150ms;
  Upstream& upstream = client.upstream(options);

  // The first holds the only connection for 300 ms under a longer limit of its own; the
  // second, limited to 80 ms, runs out while still queued behind it.
  OutgoingRequest holder = get("/slow?ms=300");
  holder.timeout = 1000ms;
  OutgoingRequest impatient = get("/peer");
  impatient.timeout = 80ms;
  Results first, queued;
  client.send(upstream, holder, first.sink());
  client.send(upstream, impatient, queued.sink());
  QVERIFY(queued.wait_for(1, 1s));
  const ClientResult r = queued.take().front();
  QCOMPARE(r.error, ClientError::timeout);
  QVERIFY2(r.message.find("waiting for a connection") != std::string::npos, r.message.c_str());
  QVERIFY2(r.elapsed >= 80ms && r.elapsed < 290ms, std::to_string(ms(r.elapsed).count()).c_str());
  QCOMPARE(upstream.stats().pending_requests, 0);
  QVERIFY(first.wait_for(1, 1s));
  const ClientResult held = first.take().front();
  QVERIFY2(held.ok(), held.message.c_str());  // 300 ms: beyond the upstream's 150 ms
}

void TestHttpClient::connectFailsToClosedPort() {
  RefusingPort closed;
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(closed.port()));

  ClientResult r = client.call(upstream, get("/peer"));
  QCOMPARE(r.error, ClientError::connect_failed);
  QVERIFY(!r.message.empty());
  QVERIFY2(r.elapsed < 1s, std::to_string(ms(r.elapsed).count()).c_str());
  QCOMPARE(upstream.stats().active_connections, 0);
  QCOMPARE(upstream.stats().idle_connections, 0);
}

void TestHttpClient::connectTimeoutFiresWhenSynIsDropped() {
  // A listener that never accepts, with its accept queue filled: Linux then drops new SYNs,
  // so a connect neither succeeds nor fails until the client gives up.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  QCOMPARE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  QCOMPARE(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  std::vector<int> fillers;
  bool saturated = false;
  for (int i = 0; i < 8 && !saturated; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    fillers.push_back(fd);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    pollfd p{fd, POLLOUT, 0};
    saturated = ::poll(&p, 1, 100) == 0;
  }
  auto cleanup = qScopeGuard([&] {
    for (int fd : fillers) ::close(fd);
    ::close(listener);
  });
  if (!saturated) QSKIP("this kernel does not drop SYNs on a full accept queue");

  HttpClient client({}, nullptr);
  UpstreamOptions options = upstream_to(ntohs(addr.sin_port));
  options.connect_timeout = 100ms;
  Upstream& upstream = client.upstream(options);
  ClientResult r = client.call(upstream, get("/peer"));
  QCOMPARE(r.error, ClientError::connect_timeout);
  QVERIFY2(r.elapsed >= 100ms && r.elapsed < 900ms, std::to_string(ms(r.elapsed).count()).c_str());
}

void TestHttpClient::replacesKeepAliveClosedByServer() {
  TestServer server(100ms);  // the server drops keep-alive connections idle for 100 ms
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  ClientResult before = client.call(upstream, get("/peer"));
  QVERIFY2(before.ok(), before.message.c_str());
  std::this_thread::sleep_for(300ms);
  ClientResult after = client.call(upstream, get("/peer"));
  QVERIFY2(after.ok(), after.message.c_str());
  QVERIFY(after.response.body != before.response.body);
  QCOMPARE(upstream.stats().connections_opened, std::uint64_t{2});
  // Noticed before the request went out, so nothing had to be sent twice.
  QCOMPARE(upstream.stats().retries, std::uint64_t{0});
}

void TestHttpClient::retriesOnceOnStaleKeepAlive() {
  using Act = ScriptedServer::Act;
  // The kept-alive connection is dropped with the second request unanswered.
  ScriptedServer server([](int connection, int request) {
    return connection == 0 && request == 1 ? Act::close_silently : Act::respond;
  });
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  QVERIFY(client.call(upstream, get("/a")).ok());
  ClientResult r = client.call(upstream, get("/b"));
  QVERIFY2(r.ok(), r.message.c_str());
  QCOMPARE(r.response.body, std::string("ok"));
  QCOMPARE(upstream.stats().retries, std::uint64_t{1});
  QCOMPARE(server.requests(), 3);
  QCOMPARE(server.connections(), 2);
}

void TestHttpClient::givesUpAfterOneRetry() {
  using Act = ScriptedServer::Act;
  ScriptedServer server([](int connection, int request) {
    return connection == 0 && request == 0 ? Act::respond : Act::close_silently;
  });
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  QVERIFY(client.call(upstream, get("/a")).ok());
  ClientResult r = client.call(upstream, get("/b"));
  QCOMPARE(r.error, ClientError::connection_closed);
  QCOMPARE(upstream.stats().retries, std::uint64_t{1});
  QCOMPARE(server.requests(), 3);  // /a, /b on the pooled connection, /b once more: no more
}

void TestHttpClient::doesNotRetryAfterPartialResponse() {
  using Act = ScriptedServer::Act;
  ScriptedServer server([](int connection, int request) {
    return connection == 0 && request == 1 ? Act::respond_partially : Act::respond;
  });
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  QVERIFY(client.call(upstream, get("/a")).ok());
  ClientResult r = client.call(upstream, get("/b"));
  QCOMPARE(r.error, ClientError::connection_closed);
  QCOMPARE(upstream.stats().retries, std::uint64_t{0});
  QCOMPARE(server.requests(), 2);
}

void TestHttpClient::skipsInterimResponses() {
  ScriptedServer server([](int, int) { return ScriptedServer::Act::respond_after_interim; });
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));
  for (int i = 0; i < 2; ++i) {  // and the connection stays usable after it
    ClientResult r = client.call(upstream, get("/a"));
    QVERIFY2(r.ok(), r.message.c_str());
    QCOMPARE(r.response.status, 200);
    QCOMPARE(r.response.body, std::string("ok"));
  }
  QCOMPARE(server.connections(), 1);
}

void TestHttpClient::refusesOversizedOrMalformedResponseHeaders() {
  using Act = ScriptedServer::Act;
  for (Act act : {Act::respond_with_huge_header, Act::respond_malformed}) {
    ScriptedServer server([act](int, int) { return act; });
    HttpClient client({}, nullptr);
    UpstreamOptions options = upstream_to(server.port());
    options.max_response_header_bytes = 4096;
    ClientResult r = client.call(client.upstream(options), get("/a"));
    QCOMPARE(r.error, ClientError::protocol_error);
    QVERIFY2(!r.message.empty(), "the error says what was wrong");
  }
}

void TestHttpClient::metricsReflectPool() {
  TestServer server;
  MetricsRegistry metrics;
  HttpClient client({}, &metrics);
  UpstreamOptions options = upstream_to(server.port(), "payment-service");
  options.max_connections = 1;
  options.max_pending_requests = 1;
  Upstream& upstream = client.upstream(options);
  const std::string up = R"(upstream="payment-service")";

  Results results;
  client.send(upstream, get("/slow?ms=150"), results.sink());
  client.send(upstream, get("/slow?ms=150"), results.sink());
  client.send(upstream, get("/slow?ms=150"), results.sink());  // overflow
  QVERIFY(results.wait_for(1, 1s));
  // While one request is in flight and one waits.
  std::string text = metrics.serialize();
  QCOMPARE(sample(text, "http_client_connections", {up, R"(state="active")"}), 1.0);
  QCOMPARE(sample(text, "http_client_connections", {up, R"(state="idle")"}), 0.0);
  QCOMPARE(sample(text, "http_client_pending_requests", {up}), 1.0);
  QCOMPARE(sample(text, "http_client_overflow_total", {up}), 1.0);
  QCOMPARE(sample(text, "http_client_errors_total", {up, R"(reason="overflow")"}), 1.0);

  QVERIFY(results.wait_for(3, 2s));
  text = metrics.serialize();
  QCOMPARE(sample(text, "http_client_connections", {up, R"(state="active")"}), 0.0);
  QCOMPARE(sample(text, "http_client_connections", {up, R"(state="idle")"}), 1.0);
  QCOMPARE(sample(text, "http_client_pending_requests", {up}), 0.0);
  QCOMPARE(sample(text, "http_client_connections_opened_total", {up}), 1.0);
  QCOMPARE(sample(text, "http_client_requests_seconds_count",
                  {up, R"(method="GET")", R"(status="200")"}),
           2.0);
  QCOMPARE(sample(text, "http_client_errors_total", {up, R"(reason="timeout")"}), 0.0);
  QCOMPARE(sample(text, "http_client_retries_total", {up}), 0.0);
}

void TestHttpClient::shutdownCompletesEverythingWithShuttingDown() {
  TestServer server;
  Results results;
  const auto started = std::chrono::steady_clock::now();
  {
    HttpClient client({}, nullptr);
    UpstreamOptions options = upstream_to(server.port());
    options.max_connections = 1;
    Upstream& upstream = client.upstream(options);
    for (int i = 0; i < 3; ++i) client.send(upstream, get("/slow?ms=900"), results.sink());
    // Let the first request reach the server, so one is in flight and two are queued.
    for (int i = 0; i < 100 && upstream.stats().pending_requests < 2; ++i)
      std::this_thread::sleep_for(2ms);
    std::this_thread::sleep_for(50ms);
  }
  // Well before the server would have answered: nothing waited for it.
  QVERIFY(std::chrono::steady_clock::now() - started < 700ms);
  QVERIFY(results.wait_for(3, 0ms));
  for (const auto& r : results.take()) QCOMPARE(r.error, ClientError::shutting_down);
}

void TestHttpClient::callOnIoThreadThrows() {
  TestServer server;
  HttpClient client({}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));

  std::atomic<bool> threw{false};
  Results results;
  auto sink = results.sink();
  client.send(upstream, get("/peer"), [&](ClientResult r) {
    try {
      client.call(upstream, get("/peer"));
    } catch (const std::logic_error&) {
      threw = true;
    }
    sink(std::move(r));
  });
  QVERIFY(results.wait_for(1, 1s));
  QVERIFY(threw);
}

void TestHttpClient::sameNameReturnsSamePool() {
  HttpClient client({}, nullptr);
  Upstream& a = client.upstream(upstream_to(8080, "product-service"));
  Upstream& b = client.upstream(upstream_to(8080, "product-service"));
  QCOMPARE(&a, &b);
  QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                           client.upstream(upstream_to(8081, "product-service")));
  UpstreamOptions nameless = upstream_to(8080, "");
  QVERIFY_THROWS_EXCEPTION(std::invalid_argument, client.upstream(nameless));
}

void TestHttpClient::callerThreadModeCompletesOnTheCallingLoop() {
  TestServer server;
  LoopThread loop;
  HttpClient client({1, /*caller_thread=*/true}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));
  const LoopAnswer a = send_on(loop, client, upstream, "/peer");
  QVERIFY2(a.result.ok(), a.result.message.c_str());
  QCOMPARE(a.result.response.status, 200);
  QCOMPARE(a.completed_on, loop.id());
  // A send on a loop must not wait for itself.
  std::promise<bool> threw;
  loop.post([&] {
    try {
      client.call(upstream, get("/peer"));
      threw.set_value(false);
    } catch (const std::logic_error&) {
      threw.set_value(true);
    }
  });
  QVERIFY(threw.get_future().get());
}

void TestHttpClient::callerThreadModeKeepsOnePoolPerLoop() {
  TestServer server;
  MetricsRegistry metrics;
  LoopThread a, b;
  HttpClient client({1, true}, &metrics);
  Upstream& upstream = client.upstream(upstream_to(server.port(), "orders"));
  std::set<std::string> peers_a, peers_b;
  for (int i = 0; i < 4; ++i) {
    const LoopAnswer on_a = send_on(a, client, upstream, "/peer");
    const LoopAnswer on_b = send_on(b, client, upstream, "/peer");
    QVERIFY2(on_a.result.ok() && on_b.result.ok(), (on_a.result.message + on_b.result.message).c_str());
    QCOMPARE(on_a.completed_on, a.id());
    QCOMPARE(on_b.completed_on, b.id());
    peers_a.insert(on_a.result.response.body);
    peers_b.insert(on_b.result.response.body);
  }
  // Each loop reuses its own keep-alive connection; the two never share one.
  QCOMPARE(peers_a.size(), std::size_t{1});
  QCOMPARE(peers_b.size(), std::size_t{1});
  QVERIFY(*peers_a.begin() != *peers_b.begin());
  QCOMPARE(upstream.pools(), 3);  // the client's own, a's and b's
  const UpstreamStats stats = upstream.stats();
  QCOMPARE(stats.connections_opened, std::uint64_t{2});
  QCOMPARE(stats.idle_connections, 2);
  QCOMPARE(stats.active_connections, 0);
  // The gauges add the pools up.
  const std::string text = metrics.serialize();
  QCOMPARE(sample(text, "http_client_connections", {R"(upstream="orders")", R"(state="idle")"}), 2.0);
  QCOMPARE(sample(text, "http_client_connections", {R"(upstream="orders")", R"(state="active")"}), 0.0);
}

void TestHttpClient::callerThreadModeServesOtherThreadsFromItsOwn() {
  TestServer server;
  HttpClient client({1, true}, nullptr);
  Upstream& upstream = client.upstream(upstream_to(server.port()));
  std::promise<std::thread::id> completed_on;
  client.send(upstream, get("/peer"), [&completed_on](ClientResult r) {
    QVERIFY(r.ok());
    completed_on.set_value(std::this_thread::get_id());
  });
  auto future = completed_on.get_future();
  QCOMPARE(future.wait_for(5s), std::future_status::ready);
  QVERIFY(future.get() != std::this_thread::get_id());  // the client's own I/O thread
  const ClientResult r = client.call(upstream, get("/peer"));  // from the test thread: allowed
  QVERIFY2(r.ok(), r.message.c_str());
  QCOMPARE(upstream.pools(), 1);  // no loop has sent on it
  QCOMPARE(upstream.stats().connections_opened, std::uint64_t{1});
}

void TestHttpClient::callerThreadModeBoundsEachLoopsPool() {
  TestServer server;
  LoopThread loop;
  HttpClient client({1, true}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.max_connections = 1;
  options.max_pending_requests = 0;
  Upstream& upstream = client.upstream(options);
  auto results = std::make_shared<std::vector<ClientResult>>();
  auto both = std::make_shared<std::promise<void>>();
  loop.post([&client, &upstream, results, both] {
    for (int i = 0; i < 2; ++i)
      client.send(upstream, get("/slow?ms=100"), [results, both](ClientResult r) {
        results->push_back(std::move(r));
        if (results->size() == 2) both->set_value();
      });
  });
  QCOMPARE(both->get_future().wait_for(10s), std::future_status::ready);
  QCOMPARE(results->at(0).error, ClientError::overflow);  // answered first, from the loop
  QVERIFY2(results->at(1).ok(), results->at(1).message.c_str());
  QCOMPARE(upstream.stats().overflows, std::uint64_t{1});
}

void TestHttpClient::callerThreadModeShutdownAnswersInFlight_data() {
  QTest::addColumn<bool>("loopStillRunning");
  QTest::newRow("on its running loop") << true;
  QTest::newRow("after its loop ended") << false;
}

void TestHttpClient::callerThreadModeShutdownAnswersInFlight() {
  QFETCH(bool, loopStillRunning);
  TestServer server;
  LoopThread loop;
  auto client = std::make_unique<HttpClient>(ClientOptions{1, true}, nullptr);
  UpstreamOptions options = upstream_to(server.port());
  options.request_timeout = 30s;
  Upstream& upstream = client->upstream(options);
  auto answered = std::make_shared<std::promise<LoopAnswer>>();
  loop.post([&client, &upstream, answered] {
    client->send(upstream, get("/slow?ms=3000"), [answered](ClientResult r) {
      answered->set_value({std::move(r), std::this_thread::get_id()});
    });
  });
  QTRY_COMPARE_WITH_TIMEOUT(upstream.stats().active_connections, 1, 5000);
  if (!loopStillRunning) loop.stop();
  const auto t0 = std::chrono::steady_clock::now();
  client.reset();
  QVERIFY(std::chrono::steady_clock::now() - t0 < 2s);  // not waiting for the slow answer
  auto future = answered->get_future();
  QCOMPARE(future.wait_for(1s), std::future_status::ready);
  const LoopAnswer a = future.get();
  QCOMPARE(a.result.error, ClientError::shutting_down);
  QCOMPARE(a.completed_on, loopStillRunning ? loop.id() : std::this_thread::get_id());
}

QTEST_APPLESS_MAIN(TestHttpClient)
#include "tst_http_client.moc"

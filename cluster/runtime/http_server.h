// HTTP/1.1 server on Boost.Beast + Asio (C++20 coroutines). One io_context per I/O thread;
// the listener accepts on the first and hands connections round-robin to all of them, so a
// connection's state is only ever touched by its own thread (no strands needed).
//
// Per connection: keep-alive (closed after keepalive_requests or keepalive_time); a header
// size limit (431) and a body size limit (413, also answered before reading when the
// Content-Length announces it); a header read timeout (408: a slow client cannot hold a
// connection); an idle keep-alive timeout (silent close, by one sweep per I/O thread every
// idle_timeout/4, between 10 ms and 1 s, not a timer per wait); a cap on open connections (503
// and close); ambiguous framing refused (400, see framing.h).
// Per request: X-Request-Id taken or generated and echoed; route, dispatch (I/O thread,
// bounded executor or async responder) and a handler deadline (503); the histogram
// http_server_requests_seconds{method,uri,status,outcome} with the route *template* as uri;
// one JSON access-log line.
//
// Each I/O thread is an IoLoop while it runs (below): clients that keep connections per thread
// (HttpClient in caller-thread mode, redis::AsyncRedis) find it there, so a handler's upstream
// call is made and completed on the handler's own thread.
//
// Thread-safety: start(), wait_for_signal(), drain() and stop() from one controlling thread.
// Router, executor, metrics and logger must outlive the server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace mambogo::runtime {

// The event loop the calling thread runs: an io_context plus a small table of per-loop objects
// that clients attach under their own address (an HttpClient upstream's pool for this thread,
// an AsyncRedis connection), Envoy's worker-local storage in miniature.
//
// A thread becomes a loop for the lifetime of an IoLoop::Scope around its io_context::run():
// HttpServer's I/O threads do this; tests and tools may run their own. IoLoop::current() finds
// it from the thread itself without a lock.
//
// Lifetime: the IoLoop is shared (share()): clients keep it to learn, after the fact, whether
// the thread has left the loop for good (running() false), in which case no handler of its
// io_context runs again and any thread may tear down what was attached.
// Thread-safety: find/attach/detach only on the loop's own thread while running(), or on any
// one thread after. context() and running() from any thread.
class IoLoop : public std::enable_shared_from_this<IoLoop> {
 public:
  // The loop the calling thread is running, or null (main, executor threads, timer threads).
  static IoLoop* current();

  boost::asio::io_context& context() const { return ioc_; }
  // Runs fn on this loop after the handlers already queued (asio::post), so work gathered
  // during one turn of the loop can be done once at its end. Any thread; fn is dropped
  // unrun if the loop ends first.
  void post(std::function<void()> fn);
  bool running() const { return running_.load(std::memory_order_acquire); }
  std::shared_ptr<IoLoop> share() { return shared_from_this(); }

  void* find(const void* owner) const {
    for (const auto& [key, object] : attached_)
      if (key == owner) return object;
    return nullptr;
  }
  // The caller owns `object` and must detach() before destroying it.
  void attach(const void* owner, void* object) { attached_.emplace_back(owner, object); }
  void detach(const void* owner) { std::erase_if(attached_, [&](const auto& e) { return e.first == owner; }); }

  // Tears down an object attached to `loop` under `owner`, from any thread but the loop's:
  // while the loop runs, detaches it and runs shut_down() there, then waits (polling on the
  // loop) until drained() says no handler refers to the object any more; if the loop has
  // ended, or ends meanwhile, detaches it and runs abandon() on the calling thread instead.
  // On return the caller may destroy the object. Blocks until one of the two has happened.
  static void retire(const std::shared_ptr<IoLoop>& loop, const void* owner, std::function<void()> shut_down,
                     std::function<bool()> drained, std::function<void()> abandon);

  // Makes the calling thread the loop of `ioc` until destroyed (then running() turns false).
  // Construct and destroy on the same thread, around the thread's ioc.run().
  class Scope {
   public:
    explicit Scope(boost::asio::io_context& ioc);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    IoLoop& loop() { return *loop_; }

   private:
    std::shared_ptr<IoLoop> loop_;
    IoLoop* previous_;
  };

  explicit IoLoop(boost::asio::io_context& ioc) : ioc_(ioc) {}  // use Scope

 private:
  boost::asio::io_context& ioc_;
  std::atomic<bool> running_{true};
  std::vector<std::pair<const void*, void*>> attached_;  // owned by the loop's thread
};

class Router;
class BoundedExecutor;
class MetricsRegistry;
class Logger;

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;  // 0 picks a free port; see HttpServer::port()
  int io_threads = 1;
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // from the first byte to the end of headers
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive connection with no request
  // nginx's keepalive_requests and keepalive_time: the response to the keepalive_requests-th
  // request of a connection, or to the first request that starts once the connection is
  // keepalive_time old, says Connection: close. A client then opens a new connection, which a
  // Service's kube-proxy may send to another pod: without this, a client that keeps one
  // connection open talks to one replica forever (Kubernetes balances connections, not
  // requests) and pods added by an autoscaler get no share of its traffic.
  int keepalive_requests = 1000;
  std::chrono::milliseconds keepalive_time{3'600'000};
  std::chrono::milliseconds handler_timeout{30'000}; // blocking/async handler must answer by then
  std::chrono::milliseconds write_timeout{30'000};
  int max_connections = 10'000;
  bool access_log = true;
};

struct ServerStats {
  int connections = 0;        // open now
  int in_flight = 0;          // requests read but not yet answered
  std::uint64_t requests = 0; // answered since start
};

struct DrainResult {
  bool completed = true;  // every in-flight request was answered before the deadline
  int abandoned = 0;      // requests still in flight at the deadline
};

class HttpServer {
 public:
  // executor may be null: then Dispatch::blocking routes run on the I/O thread.
  HttpServer(ServerOptions options, const Router& router, BoundedExecutor* executor,
             MetricsRegistry& metrics, Logger& logger);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens, starts the I/O threads, and installs SIGTERM/SIGINT handling for
  // wait_for_signal(). Throws std::system_error when the address cannot be bound.
  void start();
  std::uint16_t port() const;

  // Blocks until SIGTERM or SIGINT arrives (or stop()); returns the signal number (0 on stop).
  int wait_for_signal();

  // Graceful shutdown: closes the listener, closes idle keep-alive connections, answers
  // requests already read (with Connection: close), then stops the I/O threads. Requests
  // still running after `grace` are abandoned and reported.
  DrainResult drain(std::chrono::milliseconds grace);

  // Immediate stop: closes everything, joins the I/O threads. Idempotent.
  void stop();

  ServerStats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::runtime

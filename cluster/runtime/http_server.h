// HTTP/1.1 server on Boost.Beast + Asio (C++20 coroutines). One io_context per I/O thread;
// the listener accepts on the first and hands connections round-robin to all of them, so a
// connection's state is only ever touched by its own thread (no strands needed).
//
// Per connection: keep-alive; a header size limit (431) and a body size limit (413, also
// answered before reading when the Content-Length announces it); a header read timeout (408:
// a slow client cannot hold a connection); an idle keep-alive timeout (silent close); a cap
// on open connections (503 and close); ambiguous framing refused (400, see framing.h).
// Per request: X-Request-Id taken or generated and echoed; route, dispatch (I/O thread,
// bounded executor or async responder) and a handler deadline (503); the histogram
// http_server_requests_seconds{method,uri,status,outcome} with the route *template* as uri;
// one JSON access-log line.
//
// Thread-safety: start(), wait_for_signal(), drain() and stop() from one controlling thread.
// Router, executor, metrics and logger must outlive the server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace mambogo::runtime {

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

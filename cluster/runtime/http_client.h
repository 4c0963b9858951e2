// HTTP/1.1 client for service-to-service calls (gateway -> services, order -> payment),
// on Boost.Beast + Asio behind this plain header. One keep-alive connection pool per
// upstream, bounded the way Envoy bounds its cluster pools:
//   an idle connection is free       -> reuse the most recently used one (LIFO);
//   otherwise fewer than max_connections open -> open one for the request;
//   otherwise the pending queue has room      -> queue the request (served FIFO);
//   otherwise                                 -> fail at once with ClientError::overflow
//                                                (Envoy's "UO"); nothing queues unbounded.
// The request timeout bounds the whole exchange from send() on: waiting in the queue,
// connecting, writing and reading. Idle connections close after idle_timeout. A pooled
// connection the server has closed is noticed before reuse and replaced (checked when it has
// been idle for 10 ms or more; under load connections come back sooner); if the server
// closes it while the request is in flight and not one byte of the response has arrived,
// the request is sent again, once, on a fresh connection (the server cannot have answered).
//
// Metrics (prometheus-cpp, every series labelled with the upstream name):
//   http_client_requests_seconds{upstream,method,status}  histogram, responses received
//   http_client_errors_total{upstream,reason}              transport failures, reason is
//                                                          to_string(ClientError)
//   http_client_overflow_total{upstream}                   requests refused by the bounds
//   http_client_retries_total{upstream}                    stale keep-alive retries
//   http_client_connections_opened_total{upstream}         connection attempts
//   http_client_connections{upstream,state="active"|"idle"}  gauges: busy (incl. connecting)
//   http_client_pending_requests{upstream}                 gauge: queued for a connection
// Gauges change at the moment the pool changes.
//
// Threads: the client runs ClientOptions::io_threads Asio threads; each upstream belongs to
// one of them (round-robin at creation) and all its state is touched only there, so the
// request path takes no lock: send() only posts to that thread.
//
// Caller-thread mode (ClientOptions::caller_thread, Envoy's worker model): a send() made on an
// IoLoop thread (an HttpServer I/O thread, see http_server.h) uses the upstream's pool *for that
// thread*, created there on first use; the request is written, read and completed on the
// calling thread, with no lock and no hop. Sends from any other thread (executor, timer, test
// threads) go to the client's own threads as above. The limits (max_connections,
// max_pending_requests) then bound each of these pools separately, so one upstream may hold up
// to (loops + 1) x max_connections connections; metrics and stats() add them up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http_message.h"

namespace mambogo::runtime {

class MetricsRegistry;

struct ClientOptions {
  int io_threads = 1;          // at least 1
  bool caller_thread = false;  // per-loop pools for sends made on IoLoop threads (see above)
};

// The source address for connections to loopback upstreams: $POD_IP when it is a loopback
// address (a pod of mambogo-cluster, which gives every pod its own 127.0.1.N), else empty (the
// kernel's choice). In a real cluster a pod's connections leave from its IP anyway; on one
// machine they would all leave from 127.0.0.1 and the service proxy could not tell which pod
// sent them, so NetworkChaos between selected pods and a target could not single them out.
std::string pod_source_address();

struct UpstreamOptions {
  std::string name;                 // `upstream` label; unique within one HttpClient
  std::string host = "127.0.0.1";   // IP literal, or a name resolved at each connect
  std::uint16_t port = 8080;
  // Bound before connecting when both it and `host` are loopback IP literals; empty: not bound.
  std::string local_address = pod_source_address();
  int max_connections = 64;         // open connections, busy or idle (>= 1)
  int max_pending_requests = 1024;  // queued while every connection is busy (>= 0)
  std::chrono::milliseconds connect_timeout{1'000};
  std::chrono::milliseconds request_timeout{5'000};   // from send() to the end of the response,
                                                      // unless the request sets its own
  std::chrono::milliseconds idle_timeout{60'000};     // keep shorter than the server's
  std::size_t max_response_header_bytes = 64 * 1024;  // beyond: protocol_error
  std::size_t max_response_body_bytes = 16 * 1024 * 1024;

  bool operator==(const UpstreamOptions&) const = default;
};

struct OutgoingRequest {
  Method method = Method::get;
  std::string method_token;    // sent when method is Method::other
  std::string target = "/";    // origin-form: path plus optional "?query"
  std::vector<Header> headers; // Host defaults to host:port; Content-Length and
                               // Transfer-Encoding given here are ignored (computed)
  std::string body;
  // Bounds this request from send() on instead of the upstream's request_timeout (a route's
  // or a time limiter's own limit); zero or negative means request_timeout.
  std::chrono::milliseconds timeout{0};
};

enum class ClientError {
  none,
  connect_failed,     // resolution failed or the connection was refused
  connect_timeout,    // the connection was not established within connect_timeout
  timeout,            // the request timeout passed (queued, connecting or exchanging)
  overflow,           // every connection busy and the pending queue full
  connection_closed,  // the server closed or reset the connection before a full response
  protocol_error,     // malformed response, or one beyond the header/body limits
  shutting_down,      // the client is being destroyed
};

std::string_view to_string(ClientError e);  // "none", "connect_failed", ... as spelled above

struct ClientResult {
  ClientError error = ClientError::none;
  std::string message;  // empty on success; otherwise for humans and logs
  // Valid only when error is none. content_type is the Content-Type header (empty when
  // absent); headers hold every header as received; close_connection tells whether the
  // server ended the keep-alive.
  Response response;
  std::chrono::nanoseconds elapsed{0};  // from send() to completion

  bool ok() const { return error == ClientError::none; }
};

struct UpstreamStats {
  int active_connections = 0;  // connecting or carrying a request
  int idle_connections = 0;
  int pending_requests = 0;
  std::uint64_t connections_opened = 0;  // connection attempts since creation
  std::uint64_t retries = 0;             // stale keep-alive retries
  std::uint64_t overflows = 0;
};

// The pool for one upstream (in caller-thread mode: one pool per loop, plus the client's own).
// Created and owned by HttpClient, valid until the client is destroyed; pass it to
// HttpClient::send() and call(). Its members may be called from any thread.
class Upstream {
 public:
  class Pool;  // implementation, private to http_client.cpp
  struct LoopPools;
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  const UpstreamOptions& options() const;
  // A snapshot summed over the upstream's pools; each field is exact, the set is not atomic.
  UpstreamStats stats() const;
  // How many pools carry this upstream's requests: 1, plus one per loop that has sent on it.
  int pools() const;

 private:
  friend class HttpClient;
  Upstream(std::unique_ptr<Pool> pool, bool per_loop);
  std::unique_ptr<Pool> pool_;              // on the client's own thread
  std::unique_ptr<LoopPools> loop_pools_;   // caller-thread mode only
};

class HttpClient {
 public:
  // metrics may be null: the metrics then go to a private registry nobody scrapes. When
  // given, it must outlive the client. Throws std::invalid_argument if io_threads < 1.
  HttpClient(ClientOptions options, MetricsRegistry* metrics);
  // Completes every queued and in-flight request with shutting_down, closes every
  // connection and joins the I/O threads. No send() or call() may run concurrently with it
  // or follow it (sends made from on_done callbacks while it runs are answered
  // shutting_down). Caller-thread pools are shut down on their loop while it runs (the
  // destructor waits for that); on a loop that has ended (a stopped HttpServer) they are shut
  // down here and their on_done callbacks run on the destroying thread. Either way the loops'
  // io_contexts must outlive the client: destroy it before the HttpServer, and never on one
  // of those loops (it would wait for itself).
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The pool for options.name, created on first use. Asking again for the same name returns
  // the same pool; throws std::invalid_argument if the options differ from the first ones,
  // or are invalid (empty name or host, max_connections < 1, max_pending_requests < 0,
  // non-positive timeouts). Any thread; meant for set-up (takes a mutex).
  Upstream& upstream(UpstreamOptions options);

  // Sends the request; on_done runs exactly once, always on the I/O thread of the pool that
  // carries it (in caller-thread mode, on an IoLoop: the calling thread) and never inside
  // send() itself, also for an immediate overflow. on_done must not block (it holds up every
  // request of the upstreams on that thread) and must not throw (exceptions are swallowed).
  // Any thread.
  void send(Upstream& upstream, OutgoingRequest request,
            std::function<void(ClientResult)> on_done);

  // send() and wait for the result: for executor threads and tests. Never call it on one of
  // this client's I/O threads (from on_done): that would wait for itself, so it throws
  // std::logic_error instead.
  ClientResult call(Upstream& upstream, OutgoingRequest request);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::runtime

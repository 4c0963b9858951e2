#include "runtime/http_client.h"

#include <cstdlib>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>  // before Asio 1.74: awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/http_readers.h"
#include "runtime/http_server.h"
#include "runtime/metrics.h"
#include "runtime/socket_io.h"

namespace mambogo::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace io;  // Task, use_task, Socket, Stream, Timer: runtime/socket_io.h
using Clock = std::chrono::steady_clock;

std::string_view to_string(ClientError e) {
  switch (e) {
    case ClientError::none: return "none";
    case ClientError::connect_failed: return "connect_failed";
    case ClientError::connect_timeout: return "connect_timeout";
    case ClientError::timeout: return "timeout";
    case ClientError::overflow: return "overflow";
    case ClientError::connection_closed: return "connection_closed";
    case ClientError::protocol_error: return "protocol_error";
    case ClientError::shutting_down: return "shutting_down";
  }
  return "unknown";
}

namespace {

constexpr std::array kErrors{ClientError::connect_failed,    ClientError::connect_timeout,
                             ClientError::timeout,           ClientError::overflow,
                             ClientError::connection_closed, ClientError::protocol_error,
                             ClientError::shutting_down};

const prometheus::Histogram::BucketBoundaries kLatencyBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

http::verb to_verb(Method m) {
  switch (m) {
    case Method::get: return http::verb::get;
    case Method::head: return http::verb::head;
    case Method::post: return http::verb::post;
    case Method::put: return http::verb::put;
    case Method::patch: return http::verb::patch;
    case Method::delete_: return http::verb::delete_;
    case Method::options: return http::verb::options;
    case Method::other: break;
  }
  return http::verb::unknown;
}

struct Pending {
  OutgoingRequest request;
  std::function<void(ClientResult)> on_done;
  Clock::time_point started;
  Clock::time_point deadline;
};

struct Connection {
  explicit Connection(asio::io_context& ioc) : stream(ioc) {}
  Stream stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  std::list<Connection>::iterator self;
};

using ResponseParser = ResponseReader;  // straight into the caller's Response (http_readers.h)

// http::async_read_header's loop on the stream's own reads (under its deadline): parse what is
// buffered, read when the parser needs more. Beast's version wraps every read in two more layers
// of composed operations, each moving the handler and tracking executor work; on the gateway's
// path that was a measurable share of its CPU per request.
Task<void> read_header(Connection& c, ResponseParser& parser, beast::error_code& ec) {
  while (!parser.is_header_done()) {
    if (c.buffer.size() > 0) {
      const std::size_t used = parser.put(c.buffer.data(), ec);
      c.buffer.consume(used);
      if (ec && ec != http::error::need_more) co_return;
      ec = {};
      if (used > 0) continue;
    }
    const std::size_t room = beast::read_size(c.buffer, 65536);
    if (room == 0) {
      ec = http::error::buffer_overflow;
      co_return;
    }
    const std::size_t n = co_await c.stream.async_read_some(c.buffer.prepare(room), asio::redirect_error(use_task, ec));
    c.buffer.commit(n);
    if (ec == asio::error::eof) {  // as Beast: nothing yet is end_of_stream, else a cut message
      if (!parser.got_some()) {
        ec = http::error::end_of_stream;
        co_return;
      }
      ec = {};
      parser.put_eof(ec);
      if (!ec && !parser.is_header_done()) ec = http::error::partial_message;
      co_return;
    }
    if (ec) co_return;
  }
}

// What one attempt on one connection came to.
struct Attempt {
  ClientError error = ClientError::none;
  std::string message;
  bool nothing_received = false;  // not one byte of a response arrived
  bool reusable = false;
};

// Idle for less than this, a pooled connection is reused without peeking at it.
constexpr auto kFreshIdle = std::chrono::milliseconds(10);

// What a non-blocking peek finds on a connection nobody is reading.
enum class Readable { nothing, bytes, closed };

Readable peek(Connection& c) {
  char byte;
  const auto n = ::recv(c.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return Readable::bytes;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Readable::nothing;
  return Readable::closed;
}

struct ClientThread {
  ClientThread() : work(asio::make_work_guard(ioc)), thread([this] { ioc.run(); }) {}
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
};

struct ClientFamilies {
  explicit ClientFamilies(prometheus::Registry& r)
      : latency(prometheus::BuildHistogram()
                    .Name("http_client_requests_seconds")
                    .Help("Time from send() to the end of the upstream's response")
                    .Register(r)),
        errors(prometheus::BuildCounter()
                   .Name("http_client_errors_total")
                   .Help("Upstream requests that ended without a response, by reason")
                   .Register(r)),
        overflow(prometheus::BuildCounter()
                     .Name("http_client_overflow_total")
                     .Help("Requests refused because every connection was busy and the "
                           "pending queue full")
                     .Register(r)),
        retries(prometheus::BuildCounter()
                    .Name("http_client_retries_total")
                    .Help("Requests sent again after a pooled connection closed unanswered")
                    .Register(r)),
        opened(prometheus::BuildCounter()
                   .Name("http_client_connections_opened_total")
                   .Help("Connection attempts to the upstream")
                   .Register(r)),
        connections(prometheus::BuildGauge()
                        .Name("http_client_connections")
                        .Help("Pooled upstream connections by state")
                        .Register(r)),
        pending(prometheus::BuildGauge()
                    .Name("http_client_pending_requests")
                    .Help("Requests queued for a free upstream connection")
                    .Register(r)) {}

  prometheus::Family<prometheus::Histogram>& latency;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Counter>& overflow;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Counter>& opened;
  prometheus::Family<prometheus::Gauge>& connections;
  prometheus::Family<prometheus::Gauge>& pending;
};

}  // namespace

class Upstream::Pool {
 public:
  Pool(UpstreamOptions options, asio::io_context& ioc, ClientFamilies& families);

  // I/O thread only. defer: an immediate failure is posted rather than delivered inside
  // submit() (the caller-thread path, where submit() runs inside send()).
  void submit(Pending p, bool defer);
  void shutdown();
  // Every coroutine and timer wait has finished: the pool may be destroyed.
  bool drained() const { return active_ == 0 && timer_waits_ == 0; }
  // For a loop that has ended: shutdown(), then completes the requests whose coroutines will
  // never resume. Any one thread, once the pool's io_context runs no handler any more.
  void abandon();

  UpstreamStats stats() const;
  ~Pool();

  // Constant after construction.
  const UpstreamOptions options_;
  asio::io_context& ioc_;

 private:
  using InFlight = std::list<Pending>::iterator;
  Task<void> serve(Connection* conn, InFlight p);
  Task<ClientResult> exchange(Connection*& conn, Pending& p);
  Task<Attempt> connect(Connection*& conn, Clock::time_point deadline);
  // The request as bytes on the wire, serialised once per request (Beast's serializer and
  // field container showed up in profiles of the gateway's hot path).
  struct Wire {
    std::string bytes;
    bool keep_alive = true;  // no "Connection: close" among the caller's headers
  };
  Task<Attempt> round_trip(Connection& c, const Wire& req,
                           bool head, Clock::time_point deadline, Response& out);
  Wire build_request(OutgoingRequest& r) const;
  Attempt failure(const beast::error_code& ec, const char* during) const;
  std::string timed_out(const Pending& p, const char* where) const;

  void start(Connection* conn, Pending p);
  Connection* take_idle();
  void make_idle(Connection* c);
  void close(Connection* c);
  void arm_idle_timer();
  void sweep_idle();
  void arm_pending_timer(Clock::time_point at);
  void expire_pending();
  void deliver(Pending& p, ClientResult result);
  void fail(Pending& p, ClientError error, std::string message);
  void publish();
  void fail_later(Pending p, ClientError error, std::string message);
  prometheus::Histogram& histogram(Method method, int status);

  // Constant after construction.
  const std::string host_header_;
  std::optional<asio::ip::address> literal_;  // host, when it is an IP address
  std::optional<asio::ip::address> local_;    // the source to bind (both loopback)
  ClientFamilies& families_;
  prometheus::Gauge& active_gauge_;
  prometheus::Gauge& idle_gauge_;
  prometheus::Gauge& pending_gauge_;
  prometheus::Counter& overflow_counter_;
  prometheus::Counter& retries_counter_;
  prometheus::Counter& opened_counter_;
  std::array<prometheus::Counter*, kErrors.size() + 1> error_counters_{};  // by ClientError

  // Owned by the upstream's I/O thread.
  std::list<Connection> connections_;  // every open connection, busy or idle
  std::vector<Connection*> idle_;      // LIFO: back is the most recently used, front the oldest
  std::deque<Pending> pending_;        // served FIFO; each expires at its own deadline
  std::list<Pending> in_flight_;       // one per serve() coroutine: the request it carries
  int active_ = 0;                     // serve() coroutines; each holds at most one connection
  int timer_waits_ = 0;                // timer handlers still to run
  bool stopping_ = false;
  bool idle_timer_armed_ = false;
  Timer idle_timer_;
  Timer pending_timer_;
  Clock::time_point pending_timer_at_ = Clock::time_point::max();  // max: not armed
  io::Resolver resolver_;
  std::unordered_map<int, prometheus::Histogram*> histograms_;  // by method * 1000 + status
  // What this pool has added to the shared gauges (pools of one upstream share its series).
  int published_active_ = 0;
  int published_idle_ = 0;
  int published_pending_ = 0;

  // Written on the I/O thread, read by stats() from any thread.
  std::atomic<int> stat_active_{0};
  std::atomic<int> stat_idle_{0};
  std::atomic<int> stat_pending_{0};
  std::atomic<std::uint64_t> stat_opened_{0};
  std::atomic<std::uint64_t> stat_retries_{0};
  std::atomic<std::uint64_t> stat_overflows_{0};
};

std::string pod_source_address() {
  const char* ip = std::getenv("POD_IP");
  if (!ip || !*ip) return {};
  beast::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  return !ec && address.is_loopback() ? std::string(ip) : std::string();
}

Upstream::Pool::Pool(UpstreamOptions options, asio::io_context& ioc, ClientFamilies& families)
    : options_(std::move(options)),
      ioc_(ioc),
      host_header_(options_.host + ":" + std::to_string(options_.port)),
      families_(families),
      active_gauge_(families.connections.Add({{"upstream", options_.name}, {"state", "active"}})),
      idle_gauge_(families.connections.Add({{"upstream", options_.name}, {"state", "idle"}})),
      pending_gauge_(families.pending.Add({{"upstream", options_.name}})),
      overflow_counter_(families.overflow.Add({{"upstream", options_.name}})),
      retries_counter_(families.retries.Add({{"upstream", options_.name}})),
      opened_counter_(families.opened.Add({{"upstream", options_.name}})),
      idle_timer_(ioc),
      pending_timer_(ioc),
      resolver_(ioc) {
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (!ec) literal_ = address;
  if (literal_ && literal_->is_loopback() && !options_.local_address.empty()) {
    auto local = asio::ip::make_address(options_.local_address, ec);
    if (!ec && local.is_loopback() && local.is_v4() == literal_->is_v4()) local_ = local;
  }
  // Every reason exists from the start, so rate() over it works before the first failure.
  for (ClientError e : kErrors)
    error_counters_[static_cast<std::size_t>(e)] =
        &families.errors.Add({{"upstream", options_.name}, {"reason", std::string(to_string(e))}});
  publish();
}

void Upstream::Pool::submit(Pending p, bool defer) {
  if (stopping_) {
    if (defer) return fail_later(std::move(p), ClientError::shutting_down, "the client is shutting down");
    return fail(p, ClientError::shutting_down, "the client is shutting down");
  }
  if (Connection* c = take_idle()) return start(c, std::move(p));
  // take_idle() left no idle connection, so every open one is held by an active_ slot.
  if (active_ < options_.max_connections) return start(nullptr, std::move(p));
  if (static_cast<int>(pending_.size()) < options_.max_pending_requests) {
    const auto deadline = p.deadline;
    pending_.push_back(std::move(p));
    if (deadline < pending_timer_at_) arm_pending_timer(deadline);
    publish();
    return;
  }
  ++stat_overflows_;
  overflow_counter_.Increment();
  std::string message = "upstream " + options_.name + ": all " + std::to_string(options_.max_connections) +
                        " connections busy and " + std::to_string(options_.max_pending_requests) +
                        " requests pending";
  if (defer) return fail_later(std::move(p), ClientError::overflow, std::move(message));
  fail(p, ClientError::overflow, std::move(message));
}

void Upstream::Pool::fail_later(Pending p, ClientError error, std::string message) {
  ++timer_waits_;  // the posted handler refers to the pool
  asio::post(ioc_, [this, p = std::move(p), error, message = std::move(message)]() mutable {
    --timer_waits_;
    fail(p, error, std::move(message));
  });
}

void Upstream::Pool::start(Connection* conn, Pending p) {
  ++active_;
  publish();
  auto it = in_flight_.insert(in_flight_.end(), std::move(p));
  asio::co_spawn(ioc_, serve(conn, it), asio::detached);
}

// The request lives in in_flight_, not in the frame, so that abandon() can still answer it
// when the loop has ended with this coroutine suspended.
Task<void> Upstream::Pool::serve(Connection* conn, InFlight it) {
  Pending& p = *it;
  while (true) {
    ClientResult result = co_await exchange(conn, p);
    // The pool is settled before on_done runs, so whoever it wakes sees the pool as it is.
    std::optional<Pending> next;
    if (!stopping_ && !pending_.empty()) {
      next.emplace(std::move(pending_.front()));
      pending_.pop_front();
    } else {
      if (conn) {
        if (stopping_) close(conn);
        else make_idle(conn);
        conn = nullptr;
      }
      --active_;
    }
    publish();
    deliver(p, std::move(result));
    if (!next) {
      in_flight_.erase(it);
      co_return;
    }
    p = std::move(*next);
  }
}

Task<ClientResult> Upstream::Pool::exchange(Connection*& conn, Pending& p) {
  ClientResult result;
  if (stopping_) {
    result.error = ClientError::shutting_down;
    result.message = "the client is shutting down";
    co_return result;
  }
  if (Clock::now() >= p.deadline) {
    result.error = ClientError::timeout;
    result.message = timed_out(p, "waiting for a connection");
    co_return result;
  }
  const bool head = p.request.method == Method::head;
  const auto req = build_request(p.request);
  for (int attempt = 0;; ++attempt) {
    const bool reused = conn != nullptr;
    if (!conn) {
      Attempt c = co_await connect(conn, p.deadline);
      if (c.error != ClientError::none) {
        result.error = c.error;
        result.message = c.error == ClientError::timeout ? timed_out(p, "connecting")
                                                         : std::move(c.message);
        co_return result;
      }
    }
    Attempt a = co_await round_trip(*conn, req, head, p.deadline, result.response);
    if (a.error == ClientError::none) {
      if (!a.reusable) {
        close(conn);
        conn = nullptr;
      }
      co_return result;
    }
    close(conn);
    conn = nullptr;
    // A pooled connection the server closed before answering: the request may have been
    // written into a socket the server had already given up on, so it never saw it. Once.
    if (reused && attempt == 0 && a.nothing_received && a.error == ClientError::connection_closed &&
        !stopping_ && Clock::now() < p.deadline) {
      ++stat_retries_;
      retries_counter_.Increment();
      continue;
    }
    result.error = a.error;
    result.message = a.error == ClientError::timeout ? timed_out(p, "waiting for the response")
                                                     : std::move(a.message);
    co_return result;
  }
}

Task<Attempt> Upstream::Pool::connect(Connection*& conn, Clock::time_point deadline) {
  Attempt a;
  beast::error_code ec;
  auto redirect = asio::redirect_error(use_task, ec);
  ++stat_opened_;
  opened_counter_.Increment();
  conn = &connections_.emplace_back(ioc_);
  conn->self = std::prev(connections_.end());

  const auto connect_limit = Clock::now() + options_.connect_timeout;
  const std::string where = " to " + host_header_ + ": ";
  if (literal_) {
    if (local_) {  // leave from the pod's own address (see pod_source_address)
      auto& socket = conn->stream.socket();
      socket.open(local_->is_v4() ? tcp::v4() : tcp::v6(), ec);
      if (!ec) socket.bind(tcp::endpoint(*local_, 0), ec);
      if (ec) {
        a.error = ClientError::connect_failed;
        a.message = "bind " + local_->to_string() + where + ec.message();
        close(conn);
        conn = nullptr;
        co_return a;
      }
    }
    conn->stream.expires_at(std::min(connect_limit, deadline));
    co_await conn->stream.async_connect(tcp::endpoint(*literal_, options_.port), redirect);
  } else {
    auto endpoints = co_await resolver_.async_resolve(options_.host,
                                                      std::to_string(options_.port), redirect);
    if (!ec && !stopping_) {
      conn->stream.expires_at(std::min(connect_limit, deadline));
      co_await conn->stream.async_connect(endpoints, redirect);
    }
  }
  if (stopping_) {
    a.error = ClientError::shutting_down;
    a.message = "the client is shutting down";
  } else if (ec == beast::error::timeout) {
    a.error = deadline < connect_limit ? ClientError::timeout : ClientError::connect_timeout;
    a.message = "connect" + where + "timed out";
  } else if (ec) {
    a.error = ClientError::connect_failed;
    a.message = "connect" + where + ec.message();
  }
  if (a.error != ClientError::none) {
    close(conn);
    conn = nullptr;
    co_return a;
  }
  conn->stream.socket().set_option(tcp::no_delay(true), ec);
  conn->stream.socket().non_blocking(true, ec);  // for write_now() and the buffered-body parse
  co_return a;
}

Task<Attempt> Upstream::Pool::round_trip(Connection& c, const Wire& req,
                                         bool head, Clock::time_point deadline,
                                         Response& out) {
  beast::error_code ec;
  auto redirect = asio::redirect_error(use_task, ec);
  c.stream.expires_at(deadline);
  // The request usually fits the send buffer: sent at once, no timer wait, no resumption.
  const std::size_t sent = write_now(c.stream.socket(), asio::buffer(req.bytes), ec);
  if (!ec && sent < req.bytes.size())
    co_await asio::async_write(c.stream, asio::buffer(req.bytes) + sent, redirect);
  if (ec || stopping_) {
    Attempt a = failure(ec, "write");
    // A server may answer early (413, 431) and close before reading the whole request.
    a.nothing_received = !stopping_ && peek(c) != Readable::bytes;
    co_return a;
  }

  std::optional<ResponseParser> parser;
  bool interim = false;  // a 1xx arrived before the real response
  while (true) {
    parser.emplace(out);
    parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options_.max_response_header_bytes, UINT32_MAX)));
    parser->body_limit(options_.max_response_body_bytes);
    if (head) parser->skip(true);
    co_await read_header(c, *parser, ec);
    if (ec || stopping_) break;
    const int status = out.status;
    if (status < 100 || status >= 200 || status == 101) break;
    interim = true;
  }
  if (!ec && !stopping_) {
    if (out.status == 101) {
      co_return Attempt{ClientError::protocol_error, "upstream switched protocols", false, false};
    }
    if (!parser->is_done()) {
      // A small body came with the header: parse it from the buffer here. The socket is
      // non-blocking, so when more is needed the read says would_block and the async read,
      // under the deadline, carries on from where the parser stopped.
      http::read(c.stream.socket(), c.buffer, *parser, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        co_await http::async_read(c.stream, c.buffer, *parser, redirect);
      }
    }
  }
  if (ec || stopping_) {
    Attempt a = failure(ec, "read");
    a.nothing_received = !interim && !parser->got_some() && c.buffer.size() == 0;
    out = Response();  // no half-read response is passed on
    co_return a;
  }

  out.close_connection = !parser->keep_alive();
  Attempt a;
  // Bytes past the response mean the two sides disagree on framing: never reuse that.
  a.reusable = parser->keep_alive() && req.keep_alive && !parser->need_eof() && c.buffer.size() == 0;
  co_return a;
}

Upstream::Pool::Wire Upstream::Pool::build_request(OutgoingRequest& r) const {
  Wire wire;
  std::string& out = wire.bytes;
  const std::string_view method = r.method == Method::other ? std::string_view(r.method_token)
                                                            : http::to_string(to_verb(r.method));
  out.reserve(128 + r.target.size() + r.body.size() + r.headers.size() * 48);
  out.append(method).append(" ").append(r.target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const auto& h : r.headers) {
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) continue;
    // A name or value that could end the line would let a caller's input inject headers.
    if (!safe_header_line(h.name, h.value)) continue;
    if (iequals(h.name, "Host")) has_host = true;
    if (iequals(h.name, "Connection") && beast::http::token_list(h.value).exists("close"))
      wire.keep_alive = false;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!has_host) out.append("Host: ").append(host_header_).append("\r\n");
  // Beast's prepare_payload() rule: a length when there is a body, or for the methods that
  // expect one.
  if (!r.body.empty() || r.method == Method::post || r.method == Method::put || r.method == Method::options)
    out.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
  out.append("\r\n").append(r.body);
  return wire;
}

Attempt Upstream::Pool::failure(const beast::error_code& ec, const char* during) const {
  Attempt a;
  if (stopping_) {
    a.error = ClientError::shutting_down;
    a.message = "the client is shutting down";
    return a;
  }
  if (ec == beast::error::timeout) {
    a.error = ClientError::timeout;
    return a;
  }
  const bool http_error = ec.category() == http::make_error_code(http::error::end_of_stream).category();
  const bool closed = !http_error || ec == http::error::end_of_stream || ec == http::error::partial_message;
  a.error = closed ? ClientError::connection_closed : ClientError::protocol_error;
  a.message = std::string(during) + " " + host_header_ + ": " + ec.message();
  return a;
}

std::string Upstream::Pool::timed_out(const Pending& p, const char* where) const {
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(p.deadline - p.started);
  return "request to " + host_header_ + " timed out after " + std::to_string(limit.count()) +
         " ms " + where;
}

Connection* Upstream::Pool::take_idle() {
  const auto now = Clock::now();
  while (!idle_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    // A server that closed the idle connection has left a FIN (or RST) to read; bytes
    // readable now are unsolicited too. Either way the connection cannot carry a request.
    // The check costs a system call, so a connection back within kFreshIdle skips it: no
    // server drops keep-alive connections that fast on purpose, and one that crashed is
    // covered by the retry of a request that got no byte back.
    const auto idle = now - c->idle_since;
    if (idle < options_.idle_timeout && (idle < kFreshIdle || peek(*c) == Readable::nothing)) return c;
    close(c);
  }
  return nullptr;
}

void Upstream::Pool::make_idle(Connection* c) {
  c->idle_since = Clock::now();
  c->stream.expires_never();
  idle_.push_back(c);
  arm_idle_timer();
}

void Upstream::Pool::close(Connection* c) {
  beast::error_code ec;
  c->stream.socket().shutdown(Socket::shutdown_both, ec);
  c->stream.close();
  connections_.erase(c->self);
}

void Upstream::Pool::arm_idle_timer() {
  if (idle_timer_armed_ || idle_.empty()) return;
  idle_timer_armed_ = true;
  idle_timer_.expires_at(idle_.front()->idle_since + options_.idle_timeout);
  ++timer_waits_;
  idle_timer_.async_wait([this](const beast::error_code& ec) {
    --timer_waits_;
    idle_timer_armed_ = false;
    if (!ec && !stopping_) sweep_idle();
  });
}

void Upstream::Pool::sweep_idle() {
  const auto now = Clock::now();
  auto fresh = std::find_if(idle_.begin(), idle_.end(), [&](const Connection* c) {
    return now - c->idle_since < options_.idle_timeout;
  });
  std::for_each(idle_.begin(), fresh, [this](Connection* c) { close(c); });
  idle_.erase(idle_.begin(), fresh);
  publish();
  arm_idle_timer();
}

// The timer waits for the earliest deadline in the queue. A request that leaves the queue
// early only makes it fire early; the handler then re-arms for the earliest one left.
void Upstream::Pool::arm_pending_timer(Clock::time_point at) {
  pending_timer_at_ = at;
  pending_timer_.expires_at(at);  // a wait already armed completes with operation_aborted
  ++timer_waits_;
  pending_timer_.async_wait([this](const beast::error_code& ec) {
    --timer_waits_;
    if (ec || stopping_) return;
    pending_timer_at_ = Clock::time_point::max();
    expire_pending();
  });
}

void Upstream::Pool::expire_pending() {
  const auto now = Clock::now();
  std::vector<Pending> expired;
  auto next = Clock::time_point::max();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->deadline <= now) {
      expired.push_back(std::move(*it));
      it = pending_.erase(it);
    } else {
      next = std::min(next, it->deadline);
      ++it;
    }
  }
  if (next != Clock::time_point::max()) arm_pending_timer(next);
  publish();
  for (Pending& p : expired) fail(p, ClientError::timeout, timed_out(p, "waiting for a connection"));
}

void Upstream::Pool::shutdown() {
  stopping_ = true;
  idle_timer_.cancel();
  pending_timer_.cancel();
  resolver_.cancel();
  for (Connection* c : idle_) close(c);
  idle_.clear();
  // Busy connections belong to their serve() coroutines: closing the socket wakes them, they
  // see stopping_ and erase the connection themselves.
  for (Connection& c : connections_) {
    beast::error_code ec;
    c.stream.socket().shutdown(Socket::shutdown_both, ec);
    c.stream.close();
  }
  std::deque<Pending> queued = std::move(pending_);
  pending_.clear();
  publish();
  for (Pending& p : queued) fail(p, ClientError::shutting_down, "the client is shutting down");
}

void Upstream::Pool::abandon() {
  shutdown();
  for (Pending& p : in_flight_) fail(p, ClientError::shutting_down, "the client is shutting down");
}

Upstream::Pool::~Pool() {
  // Take this pool's share out of the gauges it shares with the upstream's other pools.
  active_ = 0;
  idle_.clear();
  pending_.clear();
  publish();
}

void Upstream::Pool::deliver(Pending& p, ClientResult result) {
  if (!p.on_done) return;  // answered already (abandon())
  const auto elapsed = Clock::now() - p.started;
  result.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed);
  if (result.ok())
    histogram(p.request.method, result.response.status)
        .Observe(std::chrono::duration<double>(elapsed).count());
  else
    error_counters_[static_cast<std::size_t>(result.error)]->Increment();
  auto on_done = std::move(p.on_done);
  p.on_done = nullptr;
  try {
    on_done(std::move(result));
  } catch (...) {
  }
}

void Upstream::Pool::fail(Pending& p, ClientError error, std::string message) {
  ClientResult r;
  r.error = error;
  r.message = std::move(message);
  deliver(p, std::move(r));
}

void Upstream::Pool::publish() {
  stat_active_.store(active_, std::memory_order_relaxed);
  stat_idle_.store(static_cast<int>(idle_.size()), std::memory_order_relaxed);
  stat_pending_.store(static_cast<int>(pending_.size()), std::memory_order_relaxed);
  auto move_gauge = [](prometheus::Gauge& g, int& published, int now) {
    if (now > published) g.Increment(now - published);
    if (now < published) g.Decrement(published - now);
    published = now;
  };
  move_gauge(active_gauge_, published_active_, active_);
  move_gauge(idle_gauge_, published_idle_, static_cast<int>(idle_.size()));
  move_gauge(pending_gauge_, published_pending_, static_cast<int>(pending_.size()));
}

prometheus::Histogram& Upstream::Pool::histogram(Method method, int status) {
  const int key = static_cast<int>(method) * 1000 + status;
  if (auto it = histograms_.find(key); it != histograms_.end()) return *it->second;
  auto& h = families_.latency.Add({{"upstream", options_.name},
                                   {"method", std::string(to_string(method))},
                                   {"status", std::to_string(status)}},
                                  kLatencyBuckets);
  histograms_.emplace(key, &h);
  return h;
}

UpstreamStats Upstream::Pool::stats() const {
  UpstreamStats s;
  s.active_connections = stat_active_.load(std::memory_order_relaxed);
  s.idle_connections = stat_idle_.load(std::memory_order_relaxed);
  s.pending_requests = stat_pending_.load(std::memory_order_relaxed);
  s.connections_opened = stat_opened_.load(std::memory_order_relaxed);
  s.retries = stat_retries_.load(std::memory_order_relaxed);
  s.overflows = stat_overflows_.load(std::memory_order_relaxed);
  return s;
}

// Caller-thread mode: the upstream's pool on each loop that has sent on it. The pools' state
// belongs to their loops; the mutex guards only the list (creation, stats, destruction).
struct Upstream::LoopPools {
  struct Entry {
    std::shared_ptr<IoLoop> loop;
    std::unique_ptr<Pool> pool;
  };
  mutable std::mutex mutex;
  std::vector<Entry> entries;
};

Upstream::Upstream(std::unique_ptr<Pool> pool, bool per_loop)
    : pool_(std::move(pool)), loop_pools_(per_loop ? std::make_unique<LoopPools>() : nullptr) {}
Upstream::~Upstream() = default;
const UpstreamOptions& Upstream::options() const { return pool_->options_; }

UpstreamStats Upstream::stats() const {
  UpstreamStats sum = pool_->stats();
  if (!loop_pools_) return sum;
  std::lock_guard lock(loop_pools_->mutex);
  for (const auto& e : loop_pools_->entries) {
    const UpstreamStats s = e.pool->stats();
    sum.active_connections += s.active_connections;
    sum.idle_connections += s.idle_connections;
    sum.pending_requests += s.pending_requests;
    sum.connections_opened += s.connections_opened;
    sum.retries += s.retries;
    sum.overflows += s.overflows;
  }
  return sum;
}

int Upstream::pools() const {
  if (!loop_pools_) return 1;
  std::lock_guard lock(loop_pools_->mutex);
  return 1 + static_cast<int>(loop_pools_->entries.size());
}

class HttpClient::Impl {
 public:
  Impl(ClientOptions options, MetricsRegistry* metrics)
      : own_registry_(metrics ? nullptr : std::make_unique<prometheus::Registry>()),
        families_(metrics ? metrics->registry() : *own_registry_),
        caller_thread_(options.caller_thread) {
    if (options.io_threads < 1) throw std::invalid_argument("io_threads must be at least 1");
    for (int i = 0; i < options.io_threads; ++i) threads_.push_back(std::make_unique<ClientThread>());
  }

  ~Impl() {
    for (auto& u : upstreams_)
      if (u->loop_pools_)
        for (auto& e : u->loop_pools_->entries) retire(*u, e);
    {
      std::lock_guard lock(mutex_);
      for (auto& u : upstreams_)
        asio::post(u->pool_->ioc_, [pool = u->pool_.get()] { pool->shutdown(); });
    }
    // Without the guard each thread's run() returns once every coroutine has finished.
    for (auto& t : threads_) t->work.reset();
    for (auto& t : threads_) t->thread.join();
    upstreams_.clear();  // before the io_contexts their sockets and timers belong to
  }

  // The calling loop's pool of `u`, created on first use. Loop thread only.
  Upstream::Pool& loop_pool(Upstream& u, IoLoop& loop) {
    if (void* found = loop.find(&u)) return *static_cast<Upstream::Pool*>(found);
    auto pool = std::make_unique<Upstream::Pool>(u.options(), loop.context(), families_);
    Upstream::Pool& ref = *pool;
    {
      std::lock_guard lock(u.loop_pools_->mutex);
      u.loop_pools_->entries.push_back({loop.share(), std::move(pool)});
    }
    loop.attach(&u, &ref);
    return ref;
  }

  static void retire(Upstream& u, Upstream::LoopPools::Entry& e) {
    Upstream::Pool* pool = e.pool.get();
    IoLoop::retire(
        e.loop, &u, [pool] { pool->shutdown(); }, [pool] { return pool->drained(); },
        [pool] { pool->abandon(); });
  }

  bool on_io_thread() const {
    const auto self = std::this_thread::get_id();
    for (const auto& t : threads_)
      if (t->thread.get_id() == self) return true;
    return false;
  }

  Upstream& upstream(UpstreamOptions options) {
    if (options.name.empty() || options.host.empty() || options.max_connections < 1 ||
        options.max_pending_requests < 0 || options.connect_timeout.count() <= 0 ||
        options.request_timeout.count() <= 0 || options.idle_timeout.count() <= 0)
      throw std::invalid_argument("upstream '" + options.name +
                                  "': need a name and host, max_connections >= 1, "
                                  "max_pending_requests >= 0 and positive timeouts");
    std::lock_guard lock(mutex_);
    for (auto& u : upstreams_) {
      if (u->options().name != options.name) continue;
      if (!(u->options() == options))
        throw std::invalid_argument("upstream '" + options.name +
                                    "' already exists with other options");
      return *u;
    }
    auto& thread = *threads_[upstreams_.size() % threads_.size()];
    auto pool = std::make_unique<Upstream::Pool>(std::move(options), thread.ioc, families_);
    upstreams_.push_back(std::unique_ptr<Upstream>(new Upstream(std::move(pool), caller_thread_)));
    return *upstreams_.back();
  }

  // Constant after construction.
  std::unique_ptr<prometheus::Registry> own_registry_;
  ClientFamilies families_;
  const bool caller_thread_;
  std::vector<std::unique_ptr<ClientThread>> threads_;

  // Guarded by mutex_; each Upstream's state belongs to its thread.
  std::mutex mutex_;
  std::vector<std::unique_ptr<Upstream>> upstreams_;
};

HttpClient::HttpClient(ClientOptions options, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(options, metrics)) {}

HttpClient::~HttpClient() = default;

Upstream& HttpClient::upstream(UpstreamOptions options) {
  return impl_->upstream(std::move(options));
}

void HttpClient::send(Upstream& upstream, OutgoingRequest request,
                      std::function<void(ClientResult)> on_done) {
  const auto now = Clock::now();
  const auto& options = upstream.pool_->options_;
  const auto limit = request.timeout.count() > 0 ? request.timeout : options.request_timeout;
  Pending p{std::move(request), std::move(on_done), now, now + limit};
  if (upstream.loop_pools_) {
    if (IoLoop* loop = IoLoop::current())
      return impl_->loop_pool(upstream, *loop).submit(std::move(p), /*defer=*/true);
  }
  Upstream::Pool& pool = *upstream.pool_;
  asio::post(pool.ioc_, [&pool, p = std::move(p)]() mutable { pool.submit(std::move(p), false); });
}

ClientResult HttpClient::call(Upstream& upstream, OutgoingRequest request) {
  if (impl_->on_io_thread())
    throw std::logic_error("HttpClient::call() on the client's own I/O thread would deadlock");
  if (upstream.loop_pools_ && IoLoop::current())
    throw std::logic_error("HttpClient::call() on an I/O loop in caller-thread mode would deadlock");
  auto promise = std::make_shared<std::promise<ClientResult>>();
  auto result = promise->get_future();
  send(upstream, std::move(request),
       [promise](ClientResult r) { promise->set_value(std::move(r)); });
  return result.get();
}

}  // namespace mambogo::runtime

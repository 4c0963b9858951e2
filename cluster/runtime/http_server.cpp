#include "runtime/http_server.h"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>  // before Asio 1.74: awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "runtime/executor.h"
#include "runtime/framing.h"
#include "runtime/http_readers.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/request_metrics.h"
#include "runtime/router.h"
#include "runtime/socket_io.h"

namespace mambogo::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace io;  // Task, use_task, Socket, Stream, Timer: runtime/socket_io.h
using Clock = std::chrono::steady_clock;

namespace {

thread_local IoLoop* current_loop = nullptr;

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace

IoLoop* IoLoop::current() { return current_loop; }

void IoLoop::post(std::function<void()> fn) { asio::post(ioc_, std::move(fn)); }

IoLoop::Scope::Scope(asio::io_context& ioc) : loop_(std::make_shared<IoLoop>(ioc)), previous_(current_loop) {
  current_loop = loop_.get();
}

IoLoop::Scope::~Scope() {
  current_loop = previous_;
  loop_->running_.store(false, std::memory_order_release);
}

void IoLoop::retire(const std::shared_ptr<IoLoop>& loop, const void* owner, std::function<void()> shut_down,
                    std::function<bool()> drained, std::function<void()> abandon) {
  enum Phase : int { idle, claimed_by_loop, shut_down_on_loop, drained_on_loop, claimed_here };
  auto phase = std::make_shared<std::atomic<int>>(idle);
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [phase, drained, ioc = &loop->context(), weak = std::weak_ptr<std::function<void()>>(poll)] {
    if (drained()) return phase->store(drained_on_loop);
    if (auto again = weak.lock()) asio::post(*ioc, *again);
  };
  asio::post(loop->context(), [phase, loop = loop.get(), owner, shut_down, poll] {
    int expected = idle;
    if (!phase->compare_exchange_strong(expected, claimed_by_loop)) return;
    loop->detach(owner);
    shut_down();
    phase->store(shut_down_on_loop);
    (*poll)();
  });
  // Bounded by the loop: it drains within a few handlers of shut_down(), or it ends.
  while (phase->load() != drained_on_loop) {
    if (!loop->running()) {  // the thread has left run(): no handler of it runs again
      int expected = idle;
      if (phase->compare_exchange_strong(expected, claimed_here)) loop->detach(owner);
      abandon();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  poll.reset();  // a poll still queued on an ended loop finds the function gone
}

// State owned by one I/O thread; only that thread touches it.
struct IoThread {
  std::list<class Session*> sessions;
  std::mt19937_64 rng{std::random_device{}()};
  std::time_t date_second = 0;
  std::string date;
  RequestMetrics::Shard* metrics = nullptr;  // written only by this thread

  const std::string& http_date() {
    std::time_t now = std::time(nullptr);
    if (now != date_second) {
      date_second = now;
      std::tm tm{};
      gmtime_r(&now, &tm);
      char buf[64];
      date.assign(buf, std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm));
    }
    return date;
  }

  std::string new_request_id() {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t a = rng(), b = rng();
    std::string id(32, '0');
    for (int i = 0; i < 16; ++i) id[i] = hex[(a >> (4 * i)) & 0xf], id[16 + i] = hex[(b >> (4 * i)) & 0xf];
    return id;
  }

  // Last member: destroyed first, and with it the suspended session frames that still
  // refer to the members above.
  asio::io_context ioc{1};
};

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, BoundedExecutor* executor,
       MetricsRegistry& metrics, Logger& logger);
  ~Impl();

  void start();
  int wait_for_signal();
  DrainResult drain(std::chrono::milliseconds grace);
  void stop();

  void count_protocol_error(const char* reason);

  // Constant after construction.
  const ServerOptions options_;
  const Router& router_;
  BoundedExecutor* const executor_;
  Logger& logger_;
  prometheus::Family<prometheus::Counter>& protocol_errors_;
  const std::shared_ptr<RequestMetrics> request_metrics_ = std::make_shared<RequestMetrics>();
  prometheus::Counter& connections_rejected_;

  // Set up in start(), constant afterwards.
  std::vector<std::unique_ptr<IoThread>> io_;
  std::optional<io::Acceptor> acceptor_;  // owned by io_[0]
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  asio::io_context control_{1};  // signals
  std::optional<asio::signal_set> signals_;

  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  // Responders and executor tasks not yet finished: each may still post into an io_context
  // or read a Request in a session frame, so both must outlive them.
  std::atomic<int> outstanding_{0};
};

// Held by every Responder sink; the server is not torn down while any exists.
struct OutstandingToken {
  explicit OutstandingToken(std::atomic<int>& n) : count(n) { ++count; }
  ~OutstandingToken() { --count; }
  std::atomic<int>& count;
};

class Session {
 public:
  Session(HttpServer::Impl& server, IoThread& thread, Socket socket)
      : server_(server), thread_(thread), stream_(std::move(socket)), deadline_(thread.ioc), wake_(thread.ioc) {
    thread_.sessions.push_front(this);
    self_in_list_ = thread_.sessions.begin();
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    stream_.socket().non_blocking(true, ec);  // for write_now() and the buffered-header parse
    thread_.metrics->add_connections(1);
  }
  ~Session() {
    if (pending_) pending_->finished = true;  // a reply still on its way must not wake us
    ++deadline_state_->generation;  // a deadline handler already queued must not touch us
    thread_.sessions.erase(self_in_list_);
    thread_.metrics->add_connections(-1);
  }

  Task<void> run();
  // Closes the socket whatever the session is doing; only when its thread is not running.
  void force_close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }
  // Called on the session's thread: closes the connection if it has waited for a request since
  // before `cutoff` (the idle sweep), or at all (drain, with the default).
  void close_if_idle(Clock::time_point cutoff = Clock::time_point::max()) {
    if (idle_ && idle_since_ < cutoff) {
      beast::error_code ec;
      stream_.socket().shutdown(Socket::shutdown_both, ec);
      stream_.socket().close(ec);
    }
  }

 private:
  Task<bool> write(Response response, const Request* request, Clock::time_point started,
                   const Route* route);
  Task<void> reject(int status, const char* code, const char* message, const char* reason);
  Task<Response> dispatch(Request& request, const Route& route);
  // Completes `out` (its request line and fields are the parser's); the answer to send
  // instead when the request must be refused before routing.
  std::optional<Response> build_request(const RequestReader& parser, Request& out);

  HttpServer::Impl& server_;
  IoThread& thread_;
  // A read deadline that cancels the read instead of closing the socket (as tcp_stream's own
  // expiry does), so the client can still be told 408.
  void arm_read_deadline(std::chrono::milliseconds d) {
    stream_.expires_never();
    const auto generation = ++deadline_state_->generation;
    deadline_state_->fired = false;
    deadline_.expires_after(d);
    deadline_.async_wait([this, state = deadline_state_, generation](beast::error_code ec) {
      if (ec || state->generation != generation) return;
      state->fired = true;
      stream_.socket().cancel(ec);
    });
  }
  bool disarm_read_deadline() {
    ++deadline_state_->generation;
    deadline_.cancel();
    return deadline_state_->fired;
  }

  struct DeadlineState {
    std::uint64_t generation = 0;
    bool fired = false;
  };

  Stream stream_;
  beast::flat_buffer buffer_;
  Timer deadline_;
  // An answer awaited from the executor or an async handler (dispatch()).
  struct Pending {
    explicit Pending(Timer& timer) : wake(timer) {}
    Timer& wake;  // the session's; only touched while !finished
    std::optional<Response> response;
    bool finished = false;
  };
  Timer wake_;
  std::shared_ptr<Pending> pending_;
  std::shared_ptr<DeadlineState> deadline_state_ = std::make_shared<DeadlineState>();
  std::list<Session*>::iterator self_in_list_;
  std::string remote_address_;
  std::string out_;  // response bytes being written
  bool idle_ = false;
  Clock::time_point idle_since_{};
  const Clock::time_point connected_at_ = Clock::now();
  int requests_served_ = 0;
};

Task<void> Session::reject(int status, const char* code, const char* message,
                           const char* reason) {
  server_.count_protocol_error(reason);
  Response r = Response::error(status, code, message);
  r.close_connection = true;
  co_await write(std::move(r), nullptr, Clock::now(), nullptr);
}

Task<void> Session::run() {
  const auto& opt = server_.options_;
  beast::error_code ec;
  auto redirect = asio::redirect_error(use_task, ec);
  while (true) {
    // Wait for the first byte of the next request (the keep-alive idle period). No timer per
    // wait: the I/O thread's idle sweep closes connections idle for longer than idle_timeout.
    if (buffer_.size() == 0) {
      if (server_.draining_) break;
      idle_ = true;
      idle_since_ = Clock::now();
      std::size_t n = co_await stream_.socket().async_read_some(buffer_.prepare(4096), redirect);
      idle_ = false;
      if (ec) break;  // peer closed, idle timeout or drain: close without a word
      buffer_.commit(n);
    }

    const auto started = Clock::now();
    Request request;
    request.headers.reserve(8);
    RequestReader parser(request);  // the request line, fields and body straight into `request`
    parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
    parser.body_limit(opt.body_limit);
    // Usually the whole header is already buffered: it is parsed right here, with no deadline
    // and no trip through the event loop (the socket is non-blocking, so should the parser
    // still want bytes the read says would_block and the async read below takes over).
    const std::string_view buffered{static_cast<const char*>(buffer_.data().data()), buffer_.size()};
    bool complete = buffered.find("\r\n\r\n") != std::string_view::npos;
    if (complete) {
      http::read_header(stream_.socket(), buffer_, parser, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) complete = false;
    }
    if (!complete) {
      arm_read_deadline(opt.header_timeout);
      co_await http::async_read_header(stream_, buffer_, parser, redirect);
    }
    if (!complete && disarm_read_deadline()) {
      co_await reject(408, "request_timeout", "request headers not received in time", "header_timeout");
      break;
    }
    if (ec == http::error::header_limit) {
      co_await reject(431, "header_too_large", "request headers exceed the limit", "header_too_large");
      break;
    }
    if (ec == http::error::body_limit) {
      co_await reject(413, "payload_too_large", "request body exceeds the limit", "body_too_large");
      break;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
    if (ec) {
      co_await reject(400, "bad_request", "malformed request", "malformed");
      break;
    }

    if (std::optional<Response> refused = build_request(parser, request)) {
      co_await write(std::move(*refused), &request, started, nullptr);
      break;
    }

    if (!parser.is_done()) {
      if (auto expect = request.header("Expect"); expect && iequals(*expect, "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        stream_.expires_after(opt.write_timeout);
        co_await http::async_write(stream_, cont, redirect);
        if (ec) break;
      }
      arm_read_deadline(opt.body_timeout);
      co_await http::async_read(stream_, buffer_, parser, redirect);
      const bool timed_out = disarm_read_deadline();
      if (ec == http::error::body_limit) {
        co_await reject(413, "payload_too_large", "request body exceeds the limit", "body_too_large");
        break;
      }
      if (timed_out) {
        co_await reject(408, "request_timeout", "request body not received in time", "body_timeout");
        break;
      }
      if (ec) {
        co_await reject(400, "bad_request", "malformed request body", "malformed");
        break;
      }
    }

    thread_.metrics->add_in_flight(1);
    RouteMatch match = server_.router_.match(request.method, request.path());
    Response response;
    const Route* route = nullptr;
    if (match.outcome == RouteMatch::Outcome::found) {
      route = match.route;
      request.path_params = std::move(match.params);
      response = co_await dispatch(request, *route);
    } else if (match.outcome == RouteMatch::Outcome::method_not_allowed) {
      response = Response::error(405, "method_not_allowed",
                                 "method " + request.method_token + " is not allowed here",
                                 request.request_id)
                     .with_header("Allow", match.allow);
    } else {
      response = Response::error(404, "not_found", "no route for " + std::string(request.path()),
                                 request.request_id);
    }
    // Past nginx's keepalive_requests / keepalive_time the answer closes the connection, so a
    // client behind a Service reconnects and may land on another replica.
    ++requests_served_;
    const bool recycle = requests_served_ >= opt.keepalive_requests || started - connected_at_ >= opt.keepalive_time;
    bool keep = parser.keep_alive() && !response.close_connection && !recycle;
    response.close_connection = !keep;
    bool ok = co_await write(std::move(response), &request, started, route);
    thread_.metrics->add_in_flight(-1);
    if (!ok || !keep) break;
  }
  beast::error_code ignored;
  stream_.socket().shutdown(Socket::shutdown_send, ignored);
}

// Completes `out`, whose request line and fields the parser has filled. Returns a response
// with status != 0 when the request must be refused before its body is read.
std::optional<Response> Session::build_request(const RequestReader& parser, Request& out) {
  auto id = out.header("X-Request-Id");
  out.request_id = id && acceptable_request_id(*id) ? std::string(*id) : thread_.new_request_id();
  out.remote_address = remote_address_;

  std::optional<Response> refuse;
  if (auto why = check_framing(out.headers)) {
    server_.count_protocol_error("ambiguous_framing");
    refuse = Response::error(400, "bad_request", "ambiguous request framing: " + *why,
                             out.request_id);
  } else if (parser.version() != 11 && parser.version() != 10) {
    server_.count_protocol_error("http_version");
    refuse = Response::error(505, "http_version_not_supported", "only HTTP/1.0 and 1.1",
                             out.request_id);
  } else if (auto len = parser.content_length(); len && *len > server_.options_.body_limit) {
    server_.count_protocol_error("body_too_large");
    refuse = Response::error(413, "payload_too_large", "request body exceeds the limit",
                             out.request_id);
  }
  if (refuse) refuse->close_connection = true;
  return refuse;
}

Task<Response> Session::dispatch(Request& request, const Route& route) {
  auto call = [&request](const Handler& h) {
    try {
      return h(request);
    } catch (const std::exception& e) {
      return Response::error(500, "internal_error", e.what(), request.request_id);
    }
  };
  if (route.handler && (route.dispatch == Dispatch::io || !server_.executor_))
    co_return call(route.handler);

  // Blocking or async: the reply arrives through a post to this thread, which wakes us. The
  // session's own wake timer is reused (constructing one looks its service up under a lock);
  // finished is set before the session can go away, so a late reply never touches it.
  auto pending = std::make_shared<Pending>(wake_);
  pending_ = pending;
  auto executor = thread_.ioc.get_executor();
  // The token lives only in the sink: a frame abandoned at shutdown must not hold it.
  Responder responder([pending, executor,
                       token = std::make_shared<OutstandingToken>(server_.outstanding_)](Response r) {
    auto take = [pending](Response&& r) {
      if (pending->finished) return;  // already answered 503 on the deadline
      pending->response = std::move(r);
      pending->wake.cancel();
    };
    // An answer completed on this very thread (a caller-thread upstream call) needs no hop.
    if (executor.running_in_this_thread()) return take(std::move(r));
    asio::post(executor, [take, r = std::move(r)]() mutable { take(std::move(r)); });
  });

  if (route.async_handler) {
    try {
      route.async_handler(request, std::move(responder));
    } catch (const std::exception& e) {
      co_return Response::error(500, "internal_error", e.what(), request.request_id);
    }
  } else {
    auto task = [&request, call, handler = &route.handler,
                 r = std::make_shared<Responder>(std::move(responder))]() mutable {
      r->send(call(*handler));
    };
    // The task refers to `request`, which lives in this suspended coroutine frame until the
    // reply arrives or the deadline passes; after the deadline nobody reads the reply.
    auto submitted = server_.executor_->submit(task);
    if (submitted == BoundedExecutor::Submitted::rejected) {
      pending->finished = true;
      co_return Response::error(503, "overloaded", "executor queue is full", request.request_id)
          .with_header("Retry-After", "1");
    }
  }
  if (!pending->response) {
    beast::error_code ec;
    wake_.expires_after(server_.options_.handler_timeout);
    co_await wake_.async_wait(asio::redirect_error(use_task, ec));
  }
  pending->finished = true;
  pending_.reset();
  if (!pending->response)
    co_return Response::error(503, "handler_timeout", "the handler did not answer in time",
                              request.request_id);
  co_return std::move(*pending->response);
}

Task<bool> Session::write(Response response, const Request* request,
                          Clock::time_point started, const Route* route) {
  // Serialised by hand into a buffer the session reuses: one allocation-free writev-free
  // send on the hot path, where Beast's serializer showed up in profiles.
  const bool head = request && request->method == Method::head;
  const bool keep_alive = !response.close_connection && !server_.draining_;
  const bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  const std::size_t body_size = response.body.size();
  std::string& out = out_;
  out.clear();
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ");
  out.append(reason_phrase(response.status)).append("\r\nDate: ").append(thread_.http_date());
  if (!bodiless) {
    out.append("\r\nContent-Type: ").append(response.content_type);
    out.append("\r\nContent-Length: ").append(std::to_string(body_size));
  }
  for (const auto& h : response.headers) {
    // A handler echoing client input must not be able to inject headers.
    if (!safe_header_line(h.name, h.value)) continue;
    out.append("\r\n").append(h.name).append(": ").append(h.value);
  }
  if (request) out.append("\r\nX-Request-Id: ").append(request->request_id);
  if (!keep_alive) out.append("\r\nConnection: close");
  out.append("\r\n\r\n");
  if (!head && !bodiless) out.append(response.body);

  beast::error_code ec;
  const std::size_t sent = write_now(stream_.socket(), asio::buffer(out), ec);
  if (!ec && sent < out.size()) {  // the send buffer is full: wait, within the write timeout
    stream_.expires_after(server_.options_.write_timeout);
    co_await asio::async_write(stream_, asio::buffer(out) + sent, asio::redirect_error(use_task, ec));
    stream_.expires_never();
  }
  if (out.capacity() > 64 * 1024) std::string().swap(out);  // do not pin a large body's buffer

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  thread_.metrics->observe(route, request ? std::string_view(request->method_token) : "OTHER",
                           route ? std::string_view(route->pattern) : "UNKNOWN", response.status,
                           seconds);
  if (server_.options_.access_log && server_.logger_.enabled(LogLevel::info)) {
    nlohmann::json fields{{"type", "access"},
                          {"status", response.status},
                          {"duration_ms", seconds * 1000.0},
                          {"bytes", body_size},
                          {"uri", route ? route->pattern : "UNKNOWN"}};
    if (request) {
      fields["method"] = request->method_token;
      fields["path"] = request->target;
      fields["request_id"] = request->request_id;
      fields["remote"] = request->remote_address;
    }
    server_.logger_.info("request", fields);
  }
  co_return !ec && keep_alive;
}

HttpServer::Impl::Impl(ServerOptions options, const Router& router, BoundedExecutor* executor,
                       MetricsRegistry& metrics, Logger& logger)
    : options_(std::move(options)),
      router_(router),
      executor_(executor),
      logger_(logger),
      protocol_errors_(prometheus::BuildCounter()
                           .Name("http_server_protocol_errors_total")
                           .Help("Requests refused before routing, by reason")
                           .Register(metrics.registry())),
      connections_rejected_(prometheus::BuildCounter()
                                .Name("http_server_connections_rejected_total")
                                .Help("Connections refused because the connection cap was reached")
                                .Register(metrics.registry())
                                .Add({})) {
  if (options_.io_threads < 1) throw std::invalid_argument("io_threads must be at least 1");
  if (options_.keepalive_requests < 1) throw std::invalid_argument("keepalive_requests must be at least 1");
  metrics.add_collectable(request_metrics_);
}

HttpServer::Impl::~Impl() {
  stop();
  while (outstanding_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  io_.clear();
}

void HttpServer::Impl::count_protocol_error(const char* reason) {
  protocol_errors_.Add({{"reason", reason}}).Increment();
}

namespace {
Task<void> write_overload_and_close(Socket socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 78\r\n"
      "Connection: close\r\nRetry-After: 1\r\n\r\n"
      R"({"error":"too_many_connections","message":"connection cap reached","requestId":null})";
  beast::error_code ec;
  co_await asio::async_write(socket, asio::buffer(kBusy), asio::redirect_error(use_task, ec));
  socket.shutdown(Socket::shutdown_both, ec);
}

Task<void> serve(HttpServer::Impl& server, IoThread& thread, Socket socket) {
  Session session(server, thread, std::move(socket));
  co_await session.run();
}

// Closes, on one I/O thread, the keep-alive connections idle for longer than idle_timeout: one
// timer per thread instead of one armed and cancelled around every wait for a request.
// A connection goes between idle_timeout and idle_timeout + period after its last request.
Task<void> close_idle_connections(IoThread& thread, std::chrono::milliseconds idle_timeout) {
  using std::chrono::milliseconds;
  const auto period = std::clamp(idle_timeout / 4, milliseconds(10), milliseconds(1000));
  Timer tick(thread.ioc);
  beast::error_code ec;
  while (true) {
    tick.expires_after(period);
    co_await tick.async_wait(asio::redirect_error(use_task, ec));
    if (ec) co_return;
    const auto cutoff = Clock::now() - idle_timeout;
    for (Session* s : thread.sessions) s->close_if_idle(cutoff);  // closing only posts handlers
  }
}

Task<void> accept_loop(HttpServer::Impl& server) {
  std::size_t next = 0;
  while (true) {
    IoThread& target = *server.io_[next++ % server.io_.size()];
    beast::error_code ec;
    Socket socket = co_await server.acceptor_->async_accept(
        target.ioc.get_executor(), asio::redirect_error(use_task, ec));
    if (ec == asio::error::operation_aborted || !server.acceptor_->is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      Timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(use_task, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (server.request_metrics_->connections() >= server.options_.max_connections) {
      server.connections_rejected_.Increment();
      asio::co_spawn(target.ioc, write_overload_and_close(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(target.ioc, serve(server, target, std::move(socket)), asio::detached);
  }
}
}  // namespace

void HttpServer::Impl::start() {
  for (int i = 0; i < options_.io_threads; ++i) {
    io_.push_back(std::make_unique<IoThread>());
    io_.back()->metrics = &request_metrics_->add_shard();
  }
  auto& ioc0 = io_.front()->ioc;
  tcp::endpoint endpoint{asio::ip::make_address(options_.address), options_.port};
  acceptor_.emplace(ioc0);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_->local_endpoint().port();
  signals_.emplace(control_, SIGINT, SIGTERM);
  asio::co_spawn(ioc0, accept_loop(*this), asio::detached);
  for (auto& t : io_) asio::co_spawn(t->ioc, close_idle_connections(*t, options_.idle_timeout), asio::detached);
  for (auto& t : io_) {
    threads_.emplace_back([&ioc = t->ioc] {
      IoLoop::Scope loop(ioc);
      auto guard = asio::make_work_guard(ioc);
      ioc.run();
    });
  }
}

int HttpServer::Impl::wait_for_signal() {
  int received = 0;
  signals_->async_wait([&](const beast::error_code& ec, int signo) {
    if (!ec) received = signo;
  });
  control_.restart();
  control_.run();
  return received;
}

DrainResult HttpServer::Impl::drain(std::chrono::milliseconds grace) {
  DrainResult result;
  if (stopped_ || io_.empty()) return result;
  draining_ = true;
  asio::post(io_.front()->ioc, [this] {
    beast::error_code ec;
    acceptor_->close(ec);
  });
  for (auto& t : io_)
    asio::post(t->ioc, [&thread = *t] {
      for (Session* s : thread.sessions) s->close_if_idle();
    });
  const auto deadline = Clock::now() + grace;
  while (request_metrics_->connections() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  result.abandoned = request_metrics_->in_flight();
  result.completed = result.abandoned == 0;
  stop();
  return result;
}

void HttpServer::Impl::stop() {
  if (stopped_.exchange(true)) return;
  draining_ = true;
  for (auto& t : io_) t->ioc.stop();
  control_.stop();
  for (auto& th : threads_)
    if (th.joinable()) th.join();
  // Abandoned connections learn it now rather than at destruction.
  for (auto& t : io_)
    for (Session* s : t->sessions) s->force_close();
  // The io_contexts (and the suspended session frames in them) live on until ~Impl, so a
  // late reply from the executor still finds them.
  acceptor_.reset();
}

HttpServer::HttpServer(ServerOptions options, const Router& router, BoundedExecutor* executor,
                       MetricsRegistry& metrics, Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), router, executor, metrics, logger)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() { impl_->start(); }
std::uint16_t HttpServer::port() const { return impl_->port_; }
int HttpServer::wait_for_signal() { return impl_->wait_for_signal(); }
DrainResult HttpServer::drain(std::chrono::milliseconds grace) { return impl_->drain(grace); }
void HttpServer::stop() { impl_->stop(); }

ServerStats HttpServer::stats() const {
  const auto& m = *impl_->request_metrics_;
  return {m.connections(), m.in_flight(), m.requests()};
}

}  // namespace mambogo::runtime

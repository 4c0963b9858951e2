#include "apiserver/transport.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace mambogo::sim::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kIdleTimeout = 120s;
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kWriteTimeout = 30s;
constexpr auto kProxyTimeout = 30s;
constexpr std::size_t kBodyLimit = 16 * 1024 * 1024;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Request to_request(const http::request<http::string_body>& message) {
  Request r;
  r.method = std::string(message.method_string());
  const std::string_view target = message.target();
  const auto question = target.find('?');
  r.path = percent_decode(target.substr(0, question), false);
  if (question != std::string_view::npos) {
    r.raw_query = std::string(target.substr(question + 1));
    std::string_view q = r.raw_query;
    while (!q.empty()) {
      auto amp = q.find('&');
      const std::string_view pair = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      r.query.emplace(percent_decode(pair.substr(0, eq), true),
                      eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true));
    }
  }
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(field.value());
  }
  r.body = message.body();
  return r;
}

// The sink a Stream writes to: chunks queue under a mutex; the session's coroutine is woken
// through a timer that only the I/O thread touches (producers post the wake-up).
class Sink : public StreamSink, public std::enable_shared_from_this<Sink> {
 public:
  explicit Sink(net::any_io_executor executor) : executor_(executor), wake_(executor) {}

  void write(std::string chunk) override {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      chunks_.push_back(std::move(chunk));
    }
    notify();
  }
  void finish() override {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    notify();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    chunks_.clear();
  }
  // I/O thread only.
  net::steady_timer& wake() { return wake_; }
  bool take(std::deque<std::string>& out, bool& finished) {
    std::lock_guard lock(mutex_);
    out.swap(chunks_);
    finished = finished_;
    return !out.empty();
  }
  bool pending() {
    std::lock_guard lock(mutex_);
    return !chunks_.empty() || finished_;
  }

 private:
  void notify() {
    net::post(executor_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->wake_.cancel();
    });
  }

  net::any_io_executor executor_;
  net::steady_timer wake_;  // I/O thread only
  std::mutex mutex_;
  std::deque<std::string> chunks_;  // guarded by mutex_
  bool finished_ = false;           // guarded by mutex_
  bool closed_ = false;             // guarded by mutex_
};

tcp::socket& socket_of(beast::tcp_stream& s) { return s.socket(); }
tcp::socket& socket_of(beast::ssl_stream<beast::tcp_stream>& s) { return beast::get_lowest_layer(s).socket(); }

}  // namespace

struct Transport::Impl {
  Impl(Handler& h, ApiServerOptions o) : handler(h), options(std::move(o)) {}

  net::awaitable<void> accept_loop();
  template <class Stream>
  net::awaitable<void> serve(Stream& stream, std::uint64_t id);
  net::awaitable<void> session(tcp::socket socket);
  net::awaitable<Response> forward(const ProxyRequest& p);
  template <class Stream>
  net::awaitable<bool> write_stream(Stream& stream, const http::request<http::string_body>& req, Response& response,
                                    std::uint64_t id);

  Handler& handler;
  const ApiServerOptions options;
  net::io_context ioc{1};
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{ioc};
  std::uint16_t bound_port = 0;
  std::thread thread;
  std::future<void> finished;

  // I/O thread only: how to interrupt each open session when stopping.
  std::map<std::uint64_t, std::function<void()>> closers;
  std::uint64_t next_session = 1;
  bool stopping = false;
};

Transport::Transport(Handler& handler, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

Transport::~Transport() { stop(); }

void Transport::start() {
  auto& i = *impl_;
  if (i.thread.joinable()) return;
  if (i.options.tls) {
    i.tls.emplace(ssl::context::tls_server);
    i.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    i.tls->use_certificate_chain_file(i.options.tls->cert.string(), ec);
    if (ec) throw std::runtime_error("apiserver: cannot load certificate " + i.options.tls->cert.string() + ": " + ec.message());
    i.tls->use_private_key_file(i.options.tls->key.string(), ssl::context::pem, ec);
    if (ec) throw std::runtime_error("apiserver: cannot load key " + i.options.tls->key.string() + ": " + ec.message());
  }
  boost::system::error_code ec;
  const auto address = net::ip::make_address(i.options.address, ec);
  if (ec) throw std::runtime_error("apiserver: bad address \"" + i.options.address + "\": " + ec.message());
  const tcp::endpoint endpoint(address, i.options.port);
  i.acceptor.open(endpoint.protocol(), ec);
  if (!ec) i.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) i.acceptor.bind(endpoint, ec);
  if (!ec) i.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("apiserver: cannot listen on " + i.options.address + ":" + std::to_string(i.options.port) +
                             ": " + ec.message());
  i.bound_port = i.acceptor.local_endpoint().port();
  net::co_spawn(i.ioc, i.accept_loop(), net::detached);
  std::promise<void> done;
  i.finished = done.get_future();
  i.thread = std::thread([&i, done = std::move(done)]() mutable {
    i.ioc.run();
    done.set_value();
  });
}

std::uint16_t Transport::port() const { return impl_->bound_port; }

void Transport::stop() {
  auto& i = *impl_;
  if (!i.thread.joinable()) return;
  net::post(i.ioc, [&i] {
    i.stopping = true;
    boost::system::error_code ignored;
    i.acceptor.close(ignored);
    auto closers = i.closers;
    for (auto& [id, close] : closers) close();
  });
  // Sessions end once interrupted; a proxy call or a slow peer is cut off after a moment.
  if (i.finished.wait_for(3s) != std::future_status::ready) i.ioc.stop();
  i.thread.join();
}

net::awaitable<void> Transport::Impl::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (stopping || ec == net::error::operation_aborted) co_return;
      spdlog::warn("apiserver: accept failed: {}", ec.message());
      continue;
    }
    net::co_spawn(ioc, session(std::move(socket)), net::detached);
  }
}

net::awaitable<void> Transport::Impl::session(tcp::socket socket) {
  const std::uint64_t id = next_session++;
  if (!tls) {
    beast::tcp_stream stream(std::move(socket));
    closers[id] = [&stream] {
      boost::system::error_code ignored;
      stream.socket().close(ignored);
    };
    co_await serve(stream, id);
    closers.erase(id);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  closers[id] = [&stream] {
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
  };
  beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
  boost::system::error_code ec;
  co_await stream.async_handshake(ssl::stream_base::server, net::redirect_error(net::use_awaitable, ec));
  if (!ec) co_await serve(stream, id);
  closers.erase(id);
}

template <class Stream>
net::awaitable<void> Transport::Impl::serve(Stream& stream, std::uint64_t id) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec || stopping) break;
    auto request = parser.release();
    Response response = handler.handle(to_request(request));
    if (response.proxy) response = co_await forward(*response.proxy);
    if (stopping) break;
    if (response.stream) {
      if (!co_await write_stream(stream, request, response, id)) break;
      if (!request.keep_alive()) break;
      continue;
    }
    http::response<http::string_body> reply{static_cast<http::status>(response.status), request.version()};
    reply.set(http::field::content_type, response.content_type);
    reply.set(http::field::cache_control, "no-cache, private");
    for (const auto& [name, value] : response.headers) reply.set(name, value);
    reply.keep_alive(request.keep_alive());
    if (request.method() != http::verb::head) reply.body() = std::move(response.body);
    reply.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    co_await http::async_write(stream, reply, net::redirect_error(net::use_awaitable, ec));
    if (ec || !request.keep_alive()) break;
  }
  boost::system::error_code ignored;
  socket_of(stream).shutdown(tcp::socket::shutdown_both, ignored);
  socket_of(stream).close(ignored);
}

// Headers, then every chunk the Stream produces, until it finishes, the timeout passes, the
// client goes away or the server stops. Returns whether the connection is still usable.
template <class Stream>
net::awaitable<bool> Transport::Impl::write_stream(Stream& stream, const http::request<http::string_body>& request,
                                                   Response& response, std::uint64_t id) {
  http::response<http::empty_body> head{static_cast<http::status>(response.status), request.version()};
  head.set(http::field::content_type, response.content_type);
  head.set(http::field::cache_control, "no-cache, private");
  head.chunked(true);
  head.keep_alive(request.keep_alive());
  http::response_serializer<http::empty_body> serializer{head};
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  co_await http::async_write_header(stream, serializer, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return false;

  auto sink = std::make_shared<Sink>(ioc.get_executor());
  auto previous_closer = closers[id];
  closers[id] = [previous_closer, weak = std::weak_ptr<Sink>(sink)] {
    if (auto s = weak.lock()) s->wake().cancel();
    previous_closer();
  };
  std::unique_ptr<api::Stream> producer = std::move(response.stream);
  producer->start(sink);
  const auto deadline = response.stream_timeout.count() > 0 ? std::chrono::steady_clock::now() + response.stream_timeout
                                                            : std::chrono::steady_clock::time_point::max();
  bool usable = true;
  std::deque<std::string> batch;
  for (;;) {
    bool finished = false;
    sink->take(batch, finished);
    for (auto& chunk : batch) {
      if (chunk.empty()) continue;
      beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
      co_await net::async_write(stream, http::make_chunk(net::buffer(chunk)), net::redirect_error(net::use_awaitable, ec));
      if (ec) break;
    }
    batch.clear();
    if (ec || stopping) {
      usable = false;
      break;
    }
    if (finished || std::chrono::steady_clock::now() >= deadline) break;
    if (sink->pending()) continue;
    // Woken by a producer (timer cancelled), the deadline, or a periodic check.
    const auto wait_until = std::min(deadline, std::chrono::steady_clock::now() + 30s);
    sink->wake().expires_at(wait_until);
    boost::system::error_code wait_ec;
    co_await sink->wake().async_wait(net::redirect_error(net::use_awaitable, wait_ec));
    if (stopping) {
      usable = false;
      break;
    }
  }
  producer.reset();  // no more production (unwatch, follower joined)
  sink->close();
  closers[id] = previous_closer;
  if (!usable) co_return false;
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  co_await net::async_write(stream, http::make_chunk_last(), net::redirect_error(net::use_awaitable, ec));
  co_return !ec;
}

net::awaitable<Response> Transport::Impl::forward(const ProxyRequest& p) {
  auto failed = [&](const std::string& why) {
    Response r;
    r.status = 503;
    r.body = Json{{"kind", "Status"},
                  {"apiVersion", "v1"},
                  {"metadata", Json::object()},
                  {"status", "Failure"},
                  {"message", "error trying to reach service: dial tcp " + p.host + ":" + std::to_string(p.port) + ": " + why},
                  {"reason", "ServiceUnavailable"},
                  {"code", 503}}
                 .dump();
    return r;
  };
  boost::system::error_code ec;
  const auto address = net::ip::make_address(p.host, ec);
  if (ec) co_return failed("bad address");
  beast::tcp_stream upstream(ioc);
  upstream.expires_after(kProxyTimeout);
  co_await upstream.async_connect(tcp::endpoint(address, p.port), net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return failed("connect: " + ec.message());
  http::request<http::string_body> req{http::string_to_verb(p.method), p.target, 11};
  req.set(http::field::host, p.host + ":" + std::to_string(p.port));
  for (const auto& [name, value] : p.headers) req.set(name, value);
  req.body() = p.body;
  req.prepare_payload();
  req.keep_alive(false);
  co_await http::async_write(upstream, req, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return failed("write: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  co_await http::async_read(upstream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return failed("read: " + ec.message());
  auto reply = parser.release();
  Response r;
  r.status = static_cast<int>(reply.result_int());
  r.content_type = std::string(reply[http::field::content_type]);
  if (r.content_type.empty()) r.content_type = "text/plain";
  r.body = std::move(reply.body());
  boost::system::error_code ignored;
  upstream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return r;
}

}  // namespace mambogo::sim::api

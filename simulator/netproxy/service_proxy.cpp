#include "netproxy/service_proxy.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>  // before Asio 1.74: awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "store/events.h"

namespace mambogo::sim::netproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kChunk = 64 * 1024;  // one buffer per direction
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

// A Body that parses and forgets: the proxy forwards the raw bytes itself and needs the parser
// only for message boundaries.
struct discard_body {
  struct value_type {};
  struct reader {
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type&) {}
    void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      ec = {};
      return asio::buffer_size(buffers);
    }
    void finish(error_code& ec) { ec = {}; }
  };
};

struct Endpoint {
  asio::ip::address address;
  std::uint16_t port = 0;
  std::string pod;  // "ns/name" of targetRef, empty when none
};

// One Service port: its current endpoints and counters. Shared by the listeners that serve
// it and the connections it accepted (which may outlive the Service).
struct PortState {
  explicit PortState(std::string k) : key(std::move(k)) {}
  const std::string key;  // "ns/name:port"

  std::optional<Endpoint> pick() {
    std::shared_ptr<const std::vector<Endpoint>> list;
    {
      std::lock_guard lock(mutex);
      list = endpoints;
    }
    if (!list || list->empty()) return std::nullopt;
    return (*list)[next.fetch_add(1, std::memory_order_relaxed) % list->size()];
  }
  void set_endpoints(std::vector<Endpoint> list) {
    auto shared = std::make_shared<const std::vector<Endpoint>>(std::move(list));
    std::lock_guard lock(mutex);
    endpoints = std::move(shared);
  }

  std::mutex mutex;
  std::shared_ptr<const std::vector<Endpoint>> endpoints;  // guarded by mutex
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> connections{0}, active{0}, bytes_up{0}, bytes_down{0}, errors{0},
      chaos_dropped{0}, http_chaos{0};
};

struct RuleSet {
  std::uint64_t generation = 0;
  std::vector<std::shared_ptr<const NetworkRule>> network;
  std::vector<std::shared_ptr<const HttpRule>> http;
};

struct Listener {
  Listener(asio::io_context& ioc, std::shared_ptr<PortState> p) : acceptor(ioc), port(std::move(p)) {}
  tcp::acceptor acceptor;
  std::shared_ptr<PortState> port;
};

class Connection;

// State owned by one I/O thread; only that thread touches it.
struct IoThread {
  std::list<Connection*> connections;
  std::mt19937_64 rng{std::random_device{}()};
  // Last member: destroyed first, and with it the suspended connection frames that still
  // refer to the members above.
  asio::io_context ioc{1};
};

}  // namespace

class ServiceProxy::Impl {
 public:
  Impl(Store& store, ServiceProxyOptions options) : store_(store), options_(std::move(options)) {}
  ~Impl() { stop(); }

  void start();
  void stop();
  std::shared_ptr<const RuleSet> rules() const {
    std::lock_guard lock(rules_mutex_);
    return rules_;
  }
  std::uint64_t rules_generation() const { return rules_generation_.load(std::memory_order_acquire); }
  void publish_rules(const std::function<void()>& change);
  std::optional<std::string> pod_with_ip(const std::string& ip) const;
  void report_source_assumed(const std::string& rule_key, const std::string& address);

  // Constant after construction.
  Store& store_;
  const ServiceProxyOptions options_;

  // Set up in start(), constant afterwards.
  std::vector<std::unique_ptr<IoThread>> io_;
  std::vector<std::thread> threads_;
  std::vector<std::uint64_t> watches_;
  std::atomic<bool> started_{false}, stopped_{false};
  std::mutex lifecycle_mutex_;  // io_ is not destroyed while publish_rules posts into it

  // Owned by io_[0].
  void request_sync();
  void sync(bool retry_failed);
  void open_listener(const std::string& address, std::uint16_t port, const std::shared_ptr<PortState>& state,
                     const Json& service, bool load_balancer);
  void set_load_balancer_status(const Json& service, bool served);
  awaitable<void> resync_loop();
  std::map<std::pair<std::string, std::uint16_t>, std::shared_ptr<Listener>> listeners_;
  std::map<std::pair<std::string, std::uint16_t>, std::string> failed_binds_;  // → service resourceVersion
  std::optional<asio::steady_timer> resync_timer_;

  std::atomic<bool> sync_pending_{false};
  std::atomic<std::uint64_t> synced_version_{0};

  mutable std::mutex states_mutex_;
  std::map<std::string, std::shared_ptr<PortState>> states_;  // guarded by states_mutex_

  mutable std::mutex rules_mutex_;
  std::map<std::string, std::shared_ptr<const NetworkRule>> network_rules_;  // guarded by rules_mutex_
  std::map<std::string, std::shared_ptr<const HttpRule>> http_rules_;        // guarded by rules_mutex_
  std::shared_ptr<const RuleSet> rules_ = std::make_shared<RuleSet>();     // guarded by rules_mutex_
  std::atomic<std::uint64_t> rules_generation_{0};
  std::set<std::string> reported_;  // guarded by rules_mutex_
  SourceAssumedFn source_assumed_;  // guarded by rules_mutex_
};

namespace {

// The effect of one network rule on one direction of one connection, with the state its
// randomness and token bucket keep between chunks.
struct Shaper {
  std::shared_ptr<const NetworkRule> rule;
  double last_jitter = 0;
  double last_loss = 0;
  int lost_in_a_row = 0;
  bool bucket_started = false;
  double tokens = 0;  // may go negative: the debt the next chunks wait off
  Clock::time_point refilled{};

  Clock::duration hold(std::size_t bytes, std::mt19937_64& rng, Clock::time_point now) {
    using std::chrono::duration_cast;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    switch (rule->action) {
      case NetworkRule::Action::delay: {
        const auto& d = rule->delay;
        double jitter = 0;
        if (d.jitter.count() > 0) {
          jitter = (1 - d.correlation) * (unit(rng) * 2 - 1) + d.correlation * last_jitter;
          last_jitter = jitter;
        }
        auto ns = static_cast<double>(d.latency.count()) + jitter * static_cast<double>(d.jitter.count());
        return duration_cast<Clock::duration>(std::chrono::nanoseconds(static_cast<std::int64_t>(std::max(0.0, ns))));
      }
      case NetworkRule::Action::loss: {
        const auto& l = rule->loss;
        double r = (1 - l.correlation) * unit(rng) + l.correlation * last_loss;
        last_loss = r;
        if (r >= l.probability) {
          lost_in_a_row = 0;
          return Clock::duration::zero();
        }
        auto rto = std::chrono::milliseconds(200) * (1 << std::min(lost_in_a_row++, 4));
        return rto;
      }
      case NetworkRule::Action::bandwidth: {
        const auto& b = rule->bandwidth;
        const double burst = std::max<double>(static_cast<double>(b.buffer), 1.0);
        if (!bucket_started) {
          bucket_started = true;
          tokens = burst;
          refilled = now;
        }
        tokens = std::min(burst, tokens + std::chrono::duration<double>(now - refilled).count() * b.bytes_per_second);
        refilled = now;
        tokens -= static_cast<double>(bytes);
        if (tokens >= 0) return Clock::duration::zero();
        return duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens / b.bytes_per_second));
      }
      case NetworkRule::Action::partition:
        break;
    }
    return Clock::duration::zero();
  }
};

struct HttpExchange {
  std::string method;
  std::string path;
  bool head = false;
  std::string synthetic;  // a response the proxy answers itself, instead of the endpoint's
  bool close_after = false;
};

std::string path_of(std::string_view target) {
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    auto slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  return std::string(target.substr(0, target.find('?')));
}

std::string synthetic_response(int code, const std::string& rule_key, bool close) {
  Json body{{"error", "chaos"},
            {"message", "HTTPChaos " + rule_key.substr(rule_key.find('/') + 1) + " answered with status " +
                            std::to_string(code) + " instead of the service"}};
  const std::string text = body.dump();
  std::string out = "HTTP/1.1 " + std::to_string(code) + " " +
                    std::string(http::obsolete_reason(static_cast<http::status>(code))) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(text.size());
  if (close) out += "\r\nConnection: close";
  out += "\r\n\r\n" + text;
  return out;
}

// One proxied connection: the client socket, the upstream socket, one buffer per direction.
// Lives on one I/O thread; two coroutines (one per direction) share it through shared_ptr.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum Dir { up = 0, down = 1 };

  Connection(ServiceProxy::Impl& proxy, IoThread& thread, tcp::socket client, std::shared_ptr<PortState> port)
      : proxy_(proxy),
        thread_(thread),
        port_(std::move(port)),
        client_(std::move(client)),
        upstream_(thread.ioc),
        timers_{asio::steady_timer(thread.ioc), asio::steady_timer(thread.ioc)} {
    thread_.connections.push_front(this);
    self_in_list_ = thread_.connections.begin();
    port_->connections.fetch_add(1, std::memory_order_relaxed);
    port_->active.fetch_add(1, std::memory_order_relaxed);
  }
  ~Connection() {
    thread_.connections.erase(self_in_list_);
    port_->active.fetch_sub(1, std::memory_order_relaxed);
  }

  awaitable<void> run();
  // On the connection's thread, after the rule set changed: cut what a rule now refuses, close
  // an idle L4 connection that must become HTTP-parsed.
  void recheck();
  void force_close() { close(false); }

 private:
  enum class Verdict { pass, cut };
  Verdict evaluate(bool at_connect);
  bool wants_http(const RuleSet& rules) const;
  awaitable<bool> forward(Dir d, const char* data, std::size_t n);
  // Each pump holds the connection alive through `keep` while it runs.
  awaitable<void> l4_pump(Dir d, std::shared_ptr<Connection> keep);
  awaitable<void> http_requests(std::shared_ptr<Connection> keep);
  awaitable<void> http_responses(std::shared_ptr<Connection> keep);
  awaitable<bool> write_client(const std::string& bytes);
  awaitable<void> sleep(Dir d, Clock::duration how_long);
  std::shared_ptr<const HttpRule> http_rule(bool on_response, std::string_view method, std::string_view path) const;
  void close(bool reset);
  tcp::socket& from(Dir d) { return d == up ? client_ : upstream_; }
  tcp::socket& to(Dir d) { return d == up ? upstream_ : client_; }
  void maybe_close_when_quiet() {
    if (close_when_quiet_ && reading_[up] && reading_[down]) close(false);
  }

  ServiceProxy::Impl& proxy_;
  IoThread& thread_;
  std::shared_ptr<PortState> port_;
  std::list<Connection*>::iterator self_in_list_;
  tcp::socket client_;
  tcp::socket upstream_;
  std::array<asio::steady_timer, 2> timers_;
  std::array<std::array<char, kChunk>, 2> buffers_;  // L4 mode; not zeroed: only read into
  std::array<beast::flat_buffer, 2> http_buffers_;     // HTTP mode

  Endpoint endpoint_;
  std::string client_address_;
  std::optional<std::string> source_pod_;
  bool source_looked_up_ = false;
  std::uint64_t seen_generation_ = 0;
  std::array<std::vector<Shaper>, 2> shapers_;
  std::array<std::size_t, 2> read_size_{kChunk, kChunk};
  bool http_mode_ = false;
  bool raw_after_upgrade_ = false;
  std::array<bool, 2> reading_{false, false};
  bool close_when_quiet_ = false;
  bool closed_ = false;

  // HTTP mode: requests sent upstream (or answered here) whose responses are still due.
  std::deque<HttpExchange> exchanges_;
  bool responses_idle_ = false;  // the response side waits for upstream bytes with nothing due
  bool wake_responses_ = false;
};

void Connection::close(bool reset) {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  for (auto& t : timers_) t.cancel();
  for (tcp::socket* s : {&client_, &upstream_}) {
    if (!s->is_open()) continue;
    if (reset) s->set_option(asio::socket_base::linger(true, 0), ec);
    else s->shutdown(tcp::socket::shutdown_both, ec);
    s->close(ec);
  }
}

Connection::Verdict Connection::evaluate(bool at_connect) {
  auto rules = proxy_.rules();
  seen_generation_ = rules->generation;
  for (auto& s : shapers_) s.clear();
  read_size_ = {kChunk, kChunk};
  if (rules->network.empty()) return Verdict::pass;
  if (!source_looked_up_) {
    source_pod_ = proxy_.pod_with_ip(client_address_);
    source_looked_up_ = true;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (const auto& rule : rules->network) {
    const Affected a = affected(*rule, source_pod_, endpoint_.pod);
    if (!a.any()) continue;
    if (a.source_assumed) proxy_.report_source_assumed(rule->key, client_address_);
    if (rule->action == NetworkRule::Action::partition) return Verdict::cut;
    if (rule->action == NetworkRule::Action::loss &&
        (rule->loss.probability >= 1.0 || (at_connect && unit(thread_.rng) < rule->loss.probability)))
      return Verdict::cut;
    for (Dir d : {up, down}) {
      if (!(d == up ? a.to_upstream : a.to_client)) continue;
      shapers_[d].push_back(Shaper{rule});
      if (rule->action == NetworkRule::Action::bandwidth && rule->bandwidth.limit > 0)
        read_size_[d] = std::min<std::size_t>(read_size_[d], std::max<std::uint64_t>(rule->bandwidth.limit, 1));
    }
  }
  return Verdict::pass;
}

bool Connection::wants_http(const RuleSet& rules) const {
  if (endpoint_.pod.empty()) return false;
  return std::any_of(rules.http.begin(), rules.http.end(), [&](const auto& r) {
    return r->pods.count(endpoint_.pod) && (r->port == 0 || r->port == endpoint_.port);
  });
}

void Connection::recheck() {
  if (closed_ || seen_generation_ == proxy_.rules_generation()) return;
  if (evaluate(false) == Verdict::cut) {
    port_->chaos_dropped.fetch_add(1, std::memory_order_relaxed);
    return close(true);
  }
  if (!http_mode_ && wants_http(*proxy_.rules())) {
    close_when_quiet_ = true;
    maybe_close_when_quiet();
  }
}

awaitable<void> Connection::sleep(Dir d, Clock::duration how_long) {
  error_code ec;
  timers_[d].expires_after(how_long);
  co_await timers_[d].async_wait(asio::redirect_error(use_awaitable, ec));
}

awaitable<bool> Connection::forward(Dir d, const char* data, std::size_t n) {
  if (seen_generation_ != proxy_.rules_generation()) {
    if (evaluate(false) == Verdict::cut) {
      port_->chaos_dropped.fetch_add(1, std::memory_order_relaxed);
      close(true);
      co_return false;
    }
  }
  if (!shapers_[d].empty()) {
    const auto now = Clock::now();
    Clock::duration hold{};
    for (auto& s : shapers_[d]) hold += s.hold(n, thread_.rng, now);
    if (hold > Clock::duration::zero()) co_await sleep(d, hold);
    if (closed_) co_return false;
  }
  error_code ec;
  co_await asio::async_write(to(d), asio::buffer(data, n), asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (!closed_) port_->errors.fetch_add(1, std::memory_order_relaxed);
    close(true);
    co_return false;
  }
  (d == up ? port_->bytes_up : port_->bytes_down).fetch_add(n, std::memory_order_relaxed);
  co_return true;
}

awaitable<void> Connection::l4_pump(Dir d, std::shared_ptr<Connection>) {
  auto& buffer = buffers_[d];
  error_code ec;
  while (!closed_) {
    reading_[d] = true;
    maybe_close_when_quiet();
    if (closed_) break;
    const std::size_t n = co_await from(d).async_read_some(asio::buffer(buffer.data(), read_size_[d]),
                                                          asio::redirect_error(use_awaitable, ec));
    reading_[d] = false;
    if (ec == asio::error::eof) {
      to(d).shutdown(tcp::socket::shutdown_send, ec);  // half-close travels on
      break;
    }
    if (ec) {
      if (!closed_) port_->errors.fetch_add(1, std::memory_order_relaxed);
      close(true);
      break;
    }
    if (!co_await forward(d, buffer.data(), n)) break;
  }
}

std::shared_ptr<const HttpRule> Connection::http_rule(bool on_response, std::string_view method,
                                                     std::string_view path) const {
  auto rules = proxy_.rules();
  for (const auto& r : rules->http)
    if (r->on_response == on_response && r->matches(endpoint_.pod, endpoint_.port, method, path)) return r;
  return nullptr;
}

awaitable<bool> Connection::write_client(const std::string& bytes) {
  error_code ec;
  co_await asio::async_write(client_, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
  if (ec) close(true);
  co_return !ec;
}

awaitable<void> Connection::http_requests(std::shared_ptr<Connection>) {
  auto& buf = http_buffers_[up];
  std::optional<http::request_parser<discard_body>> parser;
  bool discard = false;  // the current request is answered here, its bytes are not forwarded
  error_code ec;
  while (!closed_) {
    if (raw_after_upgrade_ && buf.size() > 0) {
      auto data = buf.data();
      if (!co_await forward(up, static_cast<const char*>(data.data()), data.size())) co_return;
      buf.consume(data.size());
    }
    if (!raw_after_upgrade_ && buf.size() > 0) {
      if (!parser) {
        parser.emplace();
        parser->header_limit(kHeaderLimit);
        parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      }
      const bool had_header = parser->is_header_done();
      const auto data = buf.data();
      const std::size_t n = parser->put(data, ec);
      if (ec && ec != http::error::need_more) {
        port_->errors.fetch_add(1, std::memory_order_relaxed);
        close(true);  // not HTTP/1.1 we can follow
        co_return;
      }
      if (n > 0) {
        if (!had_header && parser->is_header_done()) {
          const auto& req = parser->get();
          HttpExchange ex;
          ex.method = std::string(req.method_string());
          ex.path = path_of(req.target());
          ex.head = req.method() == http::verb::head;
          ex.close_after = !parser->keep_alive();
          if (auto rule = http_rule(false, ex.method, ex.path)) {
            port_->http_chaos.fetch_add(1, std::memory_order_relaxed);
            if (rule->delay.count() > 0) co_await sleep(up, std::chrono::duration_cast<Clock::duration>(rule->delay));
            if (closed_) co_return;
            if (rule->abort) {
              close(false);
              co_return;
            }
            if (rule->replace_code) {
              discard = true;
              ex.synthetic = synthetic_response(*rule->replace_code, rule->key, ex.close_after);
            }
          }
          exchanges_.push_back(std::move(ex));
          if (discard && exchanges_.size() == 1 && responses_idle_) {
            wake_responses_ = true;
            upstream_.cancel(ec);  // only the response side waits on upstream now
          }
        }
        if (!discard && !co_await forward(up, static_cast<const char*>(data.data()), n)) co_return;
        buf.consume(n);
        if (parser->is_done()) {
          parser.reset();
          discard = false;
        }
        continue;
      }
    }
    const std::size_t got = co_await client_.async_read_some(buf.prepare(kChunk), asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::eof) {
      upstream_.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    if (ec) {
      if (!closed_) port_->errors.fetch_add(1, std::memory_order_relaxed);
      close(true);
      co_return;
    }
    buf.commit(got);
  }
}

awaitable<void> Connection::http_responses(std::shared_ptr<Connection>) {
  auto& buf = http_buffers_[down];
  std::optional<http::response_parser<discard_body>> parser;
  error_code ec;
  bool upstream_done = false;
  while (!closed_) {
    // Answers the proxy gives itself go out in request order.
    while (!exchanges_.empty() && !exchanges_.front().synthetic.empty() && !parser) {
      HttpExchange ex = std::move(exchanges_.front());
      exchanges_.pop_front();
      if (!co_await write_client(ex.synthetic)) co_return;
      if (ex.close_after) {
        close(false);
        co_return;
      }
    }
    if (raw_after_upgrade_ && buf.size() > 0) {
      auto data = buf.data();
      if (!co_await forward(down, static_cast<const char*>(data.data()), data.size())) co_return;
      buf.consume(data.size());
    }
    if (!raw_after_upgrade_ && buf.size() > 0) {
      if (!parser) {
        parser.emplace();
        parser->header_limit(kHeaderLimit);
        parser->body_limit(std::numeric_limits<std::uint64_t>::max());
        if (!exchanges_.empty() && exchanges_.front().head) parser->skip(true);
      }
      const bool had_header = parser->is_header_done();
      const auto data = buf.data();
      const std::size_t n = parser->put(data, ec);
      if (ec && ec != http::error::need_more) {
        port_->errors.fetch_add(1, std::memory_order_relaxed);
        close(true);
        co_return;
      }
      if (n > 0) {
        std::string rewritten;
        if (!had_header && parser->is_header_done() && !exchanges_.empty()) {
          const HttpExchange& ex = exchanges_.front();
          if (auto rule = http_rule(true, ex.method, ex.path)) {
            port_->http_chaos.fetch_add(1, std::memory_order_relaxed);
            if (rule->delay.count() > 0) co_await sleep(down, std::chrono::duration_cast<Clock::duration>(rule->delay));
            if (closed_) co_return;
            if (rule->abort) {
              close(false);
              co_return;
            }
            if (rule->replace_code) {
              // Only the status line changes; the header block is the first n bytes here.
              std::string_view header(static_cast<const char*>(data.data()), n);
              auto eol = header.find("\r\n");
              const std::string version = parser->get().version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
              rewritten = version + std::to_string(*rule->replace_code) + " " +
                          std::string(http::obsolete_reason(static_cast<http::status>(*rule->replace_code))) +
                          std::string(header.substr(eol));
            }
          }
        }
        const bool ok = rewritten.empty() ? co_await forward(down, static_cast<const char*>(data.data()), n)
                                          : co_await forward(down, rewritten.data(), rewritten.size());
        if (!ok) co_return;
        buf.consume(n);
        if (parser->is_done()) {
          const int status = parser->get().result_int();
          parser.reset();
          if (status == 101) raw_after_upgrade_ = true;
          if ((status >= 200 || status == 101) && !exchanges_.empty()) exchanges_.pop_front();
        }
        continue;
      }
    }
    if (upstream_done) {
      if (parser && parser->need_eof()) parser.reset();  // the body ended with the stream
      client_.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    responses_idle_ = exchanges_.empty();
    const std::size_t got = co_await upstream_.async_read_some(buf.prepare(kChunk), asio::redirect_error(use_awaitable, ec));
    responses_idle_ = false;
    if (ec == asio::error::operation_aborted && wake_responses_ && !closed_) {
      wake_responses_ = false;
      continue;
    }
    if (ec == asio::error::eof) {
      upstream_done = true;
      continue;
    }
    if (ec) {
      if (!closed_) port_->errors.fetch_add(1, std::memory_order_relaxed);
      close(true);
      co_return;
    }
    buf.commit(got);
  }
}

awaitable<void> Connection::run() {
  error_code ec;
  client_.set_option(tcp::no_delay(true), ec);
  auto remote = client_.remote_endpoint(ec);
  if (!ec) client_address_ = remote.address().to_string();

  auto chosen = port_->pick();
  if (!chosen) {  // kube-proxy REJECTs: the client learns at once
    port_->errors.fetch_add(1, std::memory_order_relaxed);
    close(true);
    co_return;
  }
  endpoint_ = *chosen;
  if (evaluate(true) == Verdict::cut) {
    port_->chaos_dropped.fetch_add(1, std::memory_order_relaxed);
    close(true);
    co_return;
  }
  http_mode_ = wants_http(*proxy_.rules());

  // The deadline closes the socket; a deadline that fires as the connect completes must not
  // close the connection that follows, hence the shared `connecting` flag.
  asio::steady_timer deadline(thread_.ioc);
  deadline.expires_after(proxy_.options_.connect_timeout);
  auto connecting = std::make_shared<bool>(true);
  deadline.async_wait([weak = weak_from_this(), connecting](error_code e) {
    auto self = weak.lock();
    if (e || !*connecting || !self) return;
    error_code ignored;
    self->upstream_.close(ignored);
  });
  co_await upstream_.async_connect(tcp::endpoint(endpoint_.address, endpoint_.port),
                                   asio::redirect_error(use_awaitable, ec));
  const bool timed_out = !upstream_.is_open();
  *connecting = false;
  deadline.cancel();
  if (ec || timed_out || closed_) {
    if (!closed_) port_->errors.fetch_add(1, std::memory_order_relaxed);
    close(true);
    co_return;
  }
  upstream_.set_option(tcp::no_delay(true), ec);

  if (http_mode_) {
    asio::co_spawn(thread_.ioc, http_responses(shared_from_this()), asio::detached);
    co_await http_requests(shared_from_this());
  } else {
    asio::co_spawn(thread_.ioc, l4_pump(down, shared_from_this()), asio::detached);
    co_await l4_pump(up, shared_from_this());
  }
}

awaitable<void> serve(ServiceProxy::Impl& proxy, IoThread& thread, tcp::socket socket, std::shared_ptr<PortState> port) {
  auto connection = std::make_shared<Connection>(proxy, thread, std::move(socket), std::move(port));
  co_await connection->run();
}

awaitable<void> accept_loop(ServiceProxy::Impl& proxy, std::shared_ptr<Listener> listener) {
  std::size_t next = 0;
  while (true) {
    IoThread& target = *proxy.io_[next++ % proxy.io_.size()];
    error_code ec;
    tcp::socket socket = co_await listener->acceptor.async_accept(target.ioc.get_executor(),
                                                                   asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !listener->acceptor.is_open()) co_return;
    if (ec) {  // EMFILE and friends: back off briefly instead of spinning
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    asio::co_spawn(target.ioc, serve(proxy, target, std::move(socket), listener->port), asio::detached);
  }
}

std::string service_port_key(const Json& service, std::uint16_t port) {
  return namespace_of(service) + "/" + name_of(service) + ":" + std::to_string(port);
}

// The ready endpoints of one Service port in an Endpoints object, port matched by name.
std::vector<Endpoint> endpoints_for(const Json& endpoints, const std::string& port_name, const std::string& ns) {
  std::vector<Endpoint> out;
  for (const auto& subset : endpoints.value("subsets", Json::array())) {
    std::optional<std::uint16_t> port;
    for (const auto& p : subset.value("ports", Json::array()))
      if (p.value("name", std::string{}) == port_name && p.value("protocol", std::string("TCP")) == "TCP" &&
          p.contains("port") && p["port"].is_number_integer())
        port = static_cast<std::uint16_t>(p["port"].get<int>());
    if (!port) continue;
    for (const auto& a : subset.value("addresses", Json::array())) {
      error_code ec;
      auto address = asio::ip::make_address(a.value("ip", std::string{}), ec);
      if (ec) continue;
      std::string pod;
      if (auto ref = a.find("targetRef"); ref != a.end() && ref->is_object() && ref->value("kind", std::string("Pod")) == "Pod")
        if (auto name = ref->value("name", std::string{}); !name.empty())
          pod = ref->value("namespace", ns) + "/" + name;
      out.push_back({address, *port, pod});
    }
  }
  return out;
}

}  // namespace

void ServiceProxy::Impl::start() {
  if (options_.io_threads < 1) throw std::invalid_argument("ServiceProxy: io_threads must be at least 1");
  if (options_.connect_timeout.count() <= 0 || options_.resync.count() <= 0)
    throw std::invalid_argument("ServiceProxy: connect_timeout and resync must be positive");
  error_code ec;
  asio::ip::make_address(options_.load_balancer_address, ec);
  if (ec) throw std::invalid_argument("ServiceProxy: load_balancer_address \"" + options_.load_balancer_address + "\" is no IP address");
  {
    std::lock_guard lock(lifecycle_mutex_);
    if (started_) throw std::logic_error("ServiceProxy: start() called twice");
    for (int i = 0; i < options_.io_threads; ++i) io_.push_back(std::make_unique<IoThread>());
    started_ = true;
  }
  for (const char* resource : {"services", "endpoints"})
    watches_.push_back(store_.watch(resource, "", 0, [this](const WatchEvent&) { request_sync(); }));
  for (auto& t : io_)
    threads_.emplace_back([&ioc = t->ioc] {
      auto guard = asio::make_work_guard(ioc);
      ioc.run();
    });
  std::promise<void> first;
  asio::post(io_[0]->ioc, [this, &first] {
    sync(true);
    resync_timer_.emplace(io_[0]->ioc);
    asio::co_spawn(io_[0]->ioc, resync_loop(), asio::detached);
    first.set_value();
  });
  first.get_future().wait();
}

void ServiceProxy::Impl::stop() {
  if (!started_ || stopped_.exchange(true)) return;
  for (auto id : watches_) store_.unwatch(id);
  for (auto& t : io_) t->ioc.stop();
  for (auto& th : threads_)
    if (th.joinable()) th.join();
  for (auto& t : io_)
    for (Connection* c : t->connections) c->force_close();
  for (auto& [key, l] : listeners_) {
    error_code ec;
    l->acceptor.close(ec);
  }
  listeners_.clear();
  resync_timer_.reset();
  std::lock_guard lock(lifecycle_mutex_);
  io_.clear();  // destroys the suspended frames, and with them the connections
}

awaitable<void> ServiceProxy::Impl::resync_loop() {
  while (true) {
    error_code ec;
    resync_timer_->expires_after(options_.resync);
    co_await resync_timer_->async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    sync(true);
  }
}

void ServiceProxy::Impl::request_sync() {
  if (sync_pending_.exchange(true) || stopped_) return;
  asio::post(io_[0]->ioc, [this] { sync(false); });
}

void ServiceProxy::Impl::open_listener(const std::string& address, std::uint16_t port,
                                       const std::shared_ptr<PortState>& state, const Json& service,
                                       bool load_balancer) {
  auto listener = std::make_shared<Listener>(io_[0]->ioc, state);
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(address, ec), port);
  if (!ec) listener->acceptor.open(endpoint.protocol(), ec);
  if (!ec) listener->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) listener->acceptor.bind(endpoint, ec);
  if (!ec) listener->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  const auto key = std::make_pair(address, port);
  if (ec) {
    failed_binds_[key] = metadata_of(service).value("resourceVersion", std::string{});
    const std::string what = "cannot listen on " + address + ":" + std::to_string(port) + " for " +
                             state->key + ": " + ec.message();
    try {
      if (load_balancer)
        record_event(store_, "services", service, "Warning", "SyncLoadBalancerFailed",
                     "Error syncing load balancer: " + what, "service-controller");
      else
        record_event(store_, "services", service, "Warning", "ListenFailed", what, "kube-proxy");
    } catch (const std::exception&) {
      // best effort, like every event
    }
    return;
  }
  failed_binds_.erase(key);
  listeners_[key] = listener;
  asio::co_spawn(io_[0]->ioc, accept_loop(*this, listener), asio::detached);
}

void ServiceProxy::Impl::set_load_balancer_status(const Json& service, bool served) {
  const Json want = served ? Json{{"ingress", Json::array({{{"ip", options_.load_balancer_address}}})}} : Json::object();
  const Json have = service.value("status", Json::object()).value("loadBalancer", Json::object());
  if (have == want) return;
  try {
    store_.mutate(ref_of("services", service), [&](Json& s) { s["status"]["loadBalancer"] = want; });
  } catch (const StoreError&) {
    // removed meanwhile: the next sync closes its listeners
  }
}

void ServiceProxy::Impl::sync(bool retry_failed) {
  sync_pending_ = false;
  const std::uint64_t version = store_.resource_version();
  const auto services = store_.list("services").items;
  std::map<std::string, Json> endpoints;
  for (auto& e : store_.list("endpoints").items) {
    std::string key = namespace_of(e) + "/" + name_of(e);  // before e is moved from
    endpoints[key] = std::move(e);
  }

  struct Want {
    std::shared_ptr<PortState> state;
    const Json* service;
    bool load_balancer;
  };
  std::map<std::pair<std::string, std::uint16_t>, Want> wanted;
  std::map<std::string, std::shared_ptr<PortState>> states;
  {
    std::lock_guard lock(states_mutex_);
    states = states_;
  }
  std::map<std::string, std::shared_ptr<PortState>> next_states;
  for (const Json& svc : services) try {
    const Json spec = svc.value("spec", Json::object());
    const std::string type = spec.value("type", std::string("ClusterIP"));
    if (type == "ExternalName") continue;
    const std::string cluster_ip = spec.value("clusterIP", std::string{});
    error_code ec;
    asio::ip::make_address(cluster_ip, ec);
    const bool has_ip = !ec;
    const std::string ns = namespace_of(svc);
    const auto eps = endpoints.find(ns + "/" + name_of(svc));
    for (const auto& p : spec.value("ports", Json::array())) {
      if (p.value("protocol", std::string("TCP")) != "TCP" || !p.contains("port") || !p["port"].is_number_integer())
        continue;
      const auto port = static_cast<std::uint16_t>(p["port"].get<int>());
      const std::string key = service_port_key(svc, port);
      auto& state = next_states[key];
      auto existing = states.find(key);
      state = existing != states.end() ? existing->second : std::make_shared<PortState>(key);
      state->set_endpoints(eps == endpoints.end() ? std::vector<Endpoint>{}
                                                  : endpoints_for(eps->second, p.value("name", std::string{}), ns));
      if (has_ip) wanted[{cluster_ip, port}] = {state, &svc, false};
      if (type == "LoadBalancer") wanted[{options_.load_balancer_address, port}] = {state, &svc, true};
      if ((type == "LoadBalancer" || type == "NodePort") && p.contains("nodePort") && p["nodePort"].is_number_integer())
        wanted[{options_.load_balancer_address, static_cast<std::uint16_t>(p["nodePort"].get<int>())}] = {state, &svc, false};
    }
  } catch (const Json::exception&) {
    // a field of the wrong type: the API server should have refused it; skip the Service
  }

  for (auto it = listeners_.begin(); it != listeners_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second.state != it->second->port) {
      error_code ec;
      it->second->acceptor.close(ec);
      it = listeners_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = failed_binds_.begin(); it != failed_binds_.end();)
    it = wanted.count(it->first) ? std::next(it) : failed_binds_.erase(it);
  for (const auto& [key, want] : wanted) {
    if (listeners_.count(key)) continue;
    auto failed = failed_binds_.find(key);
    if (failed != failed_binds_.end() && !retry_failed &&
        failed->second == metadata_of(*want.service).value("resourceVersion", std::string{}))
      continue;
    open_listener(key.first, key.second, want.state, *want.service, want.load_balancer);
  }
  {
    std::lock_guard lock(states_mutex_);
    states_ = std::move(next_states);
  }
  for (const Json& svc : services) {
    const Json spec = svc.value("spec", Json::object());
    if (spec.value("type", std::string{}) != "LoadBalancer") continue;
    bool served = true;
    for (const auto& p : spec.value("ports", Json::array()))
      if (p.value("protocol", std::string("TCP")) == "TCP" && p.contains("port") && p["port"].is_number_integer())
        served = served && listeners_.count({options_.load_balancer_address, static_cast<std::uint16_t>(p["port"].get<int>())});
    set_load_balancer_status(svc, served);
  }
  synced_version_ = version;
}

void ServiceProxy::Impl::publish_rules(const std::function<void()>& change) {
  {
    std::lock_guard lock(rules_mutex_);
    change();
    auto set = std::make_shared<RuleSet>();
    set->generation = rules_->generation + 1;
    for (const auto& [k, r] : network_rules_) set->network.push_back(r);
    for (const auto& [k, r] : http_rules_) set->http.push_back(r);
    rules_ = set;
    rules_generation_.store(set->generation, std::memory_order_release);
  }
  std::lock_guard lock(lifecycle_mutex_);
  if (!started_ || stopped_) return;
  for (auto& t : io_)
    asio::post(t->ioc, [thread = t.get()] {
      // recheck() may close, which never removes from the list: connections leave it in
      // their destructors, which run later from the frames.
      for (Connection* c : thread->connections) c->recheck();
    });
}

std::optional<std::string> ServiceProxy::Impl::pod_with_ip(const std::string& ip) const {
  if (ip.empty()) return std::nullopt;
  auto pods = store_.list("pods", "", [&](const Json& pod) {
    auto status = pod.find("status");
    return status != pod.end() && status->is_object() && status->value("podIP", std::string{}) == ip;
  });
  if (pods.items.empty()) return std::nullopt;
  return namespace_of(pods.items.front()) + "/" + name_of(pods.items.front());
}

void ServiceProxy::Impl::report_source_assumed(const std::string& rule_key, const std::string& address) {
  // Called under the lock, so that after on_source_assumed(nullptr) returns the old hook
  // never runs again (its owner may be gone). The hook only queues.
  std::lock_guard lock(rules_mutex_);
  if (!reported_.insert(rule_key).second) return;
  if (source_assumed_) source_assumed_(rule_key, address);
}

ServiceProxy::ServiceProxy(Store& store, ServiceProxyOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}
ServiceProxy::~ServiceProxy() = default;

void ServiceProxy::start() { impl_->start(); }
void ServiceProxy::stop() { impl_->stop(); }
std::uint64_t ServiceProxy::synced_version() const { return impl_->synced_version_.load(); }

std::map<std::string, ServicePortStats> ServiceProxy::stats() const {
  std::map<std::string, ServicePortStats> out;
  std::lock_guard lock(impl_->states_mutex_);
  for (const auto& [key, s] : impl_->states_) {
    auto& o = out[key];
    o.connections = s->connections.load(std::memory_order_relaxed);
    o.active = s->active.load(std::memory_order_relaxed);
    o.bytes_to_upstream = s->bytes_up.load(std::memory_order_relaxed);
    o.bytes_to_client = s->bytes_down.load(std::memory_order_relaxed);
    o.errors = s->errors.load(std::memory_order_relaxed);
    o.chaos_dropped = s->chaos_dropped.load(std::memory_order_relaxed);
    o.http_chaos = s->http_chaos.load(std::memory_order_relaxed);
  }
  return out;
}

void ServiceProxy::set_network_rule(NetworkRule rule) {
  auto shared = std::make_shared<const NetworkRule>(std::move(rule));
  impl_->publish_rules([&] {
    impl_->network_rules_[shared->key] = shared;
    impl_->reported_.erase(shared->key);
  });
}

void ServiceProxy::set_http_rule(HttpRule rule) {
  auto shared = std::make_shared<const HttpRule>(std::move(rule));
  impl_->publish_rules([&] { impl_->http_rules_[shared->key] = shared; });
}

void ServiceProxy::remove_rule(const std::string& key) {
  impl_->publish_rules([&] {
    impl_->network_rules_.erase(key);
    impl_->http_rules_.erase(key);
    impl_->reported_.erase(key);
  });
}

void ServiceProxy::on_source_assumed(SourceAssumedFn fn) {
  std::lock_guard lock(impl_->rules_mutex_);
  impl_->source_assumed_ = std::move(fn);
}

}  // namespace mambogo::sim::netproxy

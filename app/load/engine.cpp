// All of the engine's Asio and Beast code lives in this file.
#include "load/engine.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <unordered_map>

#include "load/jmeter_http.h"
#include "load/schedule.h"

namespace mambogo::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using boost::system::error_code;

struct Url {
  std::string host, port, target;  // target: path + query, "/" at least
  std::string key() const { return host + ":" + port; }
};

// Parses http://host[:port][/target]; "host[:port]" alone (JMeter domains) means http.
std::optional<Url> parse_url(std::string_view s) {
  if (s.starts_with("http://"))
    s.remove_prefix(7);
  else if (s.find("://") != std::string_view::npos)
    return std::nullopt;
  auto slash = s.find_first_of("/?");
  std::string_view authority = s.substr(0, slash);
  Url u;
  u.target = slash == std::string_view::npos ? "/" : std::string(s.substr(slash));
  if (u.target.front() == '?') u.target.insert(0, "/");
  if (authority.empty()) return std::nullopt;
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
    if (u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  } else {
    u.host = std::string(authority);
    u.port = "80";
  }
  if (u.host.empty()) return std::nullopt;
  return u;
}

bool passes(const Assertion& a, int status, const std::string& body) {
  std::string subject = a.field == Assertion::Field::status ? std::to_string(status) : body;
  auto one = [&](const std::string& pattern) {
    switch (a.match) {
      case Assertion::Match::substring:
        return subject.find(pattern) != std::string::npos;
      case Assertion::Match::equals:
        return subject == pattern;
      case Assertion::Match::contains:
      case Assertion::Match::regex:
        try {
          std::regex re(pattern);
          return a.match == Assertion::Match::regex ? std::regex_match(subject, re)
                                                    : std::regex_search(subject, re);
        } catch (const std::regex_error&) {
          return false;
        }
    }
    return false;
  };
  bool result = !a.any;
  for (const auto& p : a.patterns) {
    bool r = one(p) != a.negate;
    result = a.any ? (result || r) : (result && r);
  }
  return result;
}

std::string transport_reason(const error_code& ec, bool connecting) {
  if (ec == beast::error::timeout) return connecting ? "connect timeout" : "request timeout";
  if (ec == asio::error::connection_refused) return "connect refused";
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return "connection reset";
  if (ec == http::error::end_of_stream || ec == asio::error::eof) return "connection closed";
  if (ec.category() == error_code(http::error::bad_version).category()) return "bad response";
  return (connecting ? "connect: " : "") + ec.message();
}

// Walks the plan once to give every request step a statistics slot (steps sharing a name
// share a slot).
void index_requests(const std::vector<Step>& steps,
                    std::unordered_map<const RequestStep*, std::size_t>& index,
                    std::vector<std::string>& names) {
  for (const auto& s : steps) {
    if (s.kind == Step::Kind::loop) index_requests(s.loop_steps, index, names);
    if (s.kind != Step::Kind::request) continue;
    auto it = std::find(names.begin(), names.end(), s.request.name);
    if (it == names.end()) it = names.insert(names.end(), s.request.name);
    index[&s.request] = static_cast<std::size_t>(it - names.begin());
  }
}

struct Connection {
  explicit Connection(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

struct Iteration {
  Variables vars;
  std::string uuid;
};

}  // namespace

// State every worker reads; constant once run() starts, except the atomics.
struct Shared {
  Plan plan;
  EngineOptions options;
  std::optional<Url> target;  // override
  std::optional<Url> plan_target;
  std::unordered_map<const RequestStep*, std::size_t> request_index;
  std::vector<std::string> request_names;
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> payload_cursors;
  std::discrete_distribution<std::size_t> weights;
  SteadyClock::time_point start;
  SteadyClock::time_point deadline;  // no iteration starts at or after it
  std::atomic<bool> stopping{false};
};

class Worker {
 public:
  Worker(Shared& shared, int index, std::uint64_t seed)
      : shared_(shared),
        index_(index),
        rng_(seed),
        weights_(shared.weights),
        queue_cap_((shared.options.max_queued + shared.options.threads - 1) / shared.options.threads) {
    total_.resize(shared.request_names.size());
    scenario_counts_.resize(shared.plan.scenarios.size());
  }

  void start() {
    auto workers = shared_.options.threads;
    if (shared_.plan.open_model()) {
      asio::co_spawn(io_, arrivals(), asio::detached);
    } else {
      std::int64_t global = 0;
      for (const auto& g : shared_.plan.groups)
        for (int v = 0; v < g.vus; ++v, ++global)
          if (global % workers == index_) asio::co_spawn(io_, virtual_user(g, v), asio::detached);
    }
    thread_ = std::thread([this] {
      io_.run();
      done_.store(true);
    });
  }

  // From the controller: ends every wait and exchange of this worker.
  void cancel_all() {
    asio::post(io_, [this] {
      for (auto* s : streams_) s->cancel();
      for (auto* t : timers_) t->cancel();
      idle_.clear();
      dropped_ += static_cast<std::int64_t>(queue_.size());
      queue_.clear();
      queued_.store(0);
    });
  }
  void force_stop() { io_.stop(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(); }

  // Controller side: the interval's statistics, leaving a fresh interval behind.
  void take_interval(RequestStats& into) {
    std::lock_guard lock(mutex_);
    std::swap(into, interval_);
  }
  std::int64_t in_flight() const { return in_flight_.load(); }
  std::int64_t queued() const { return queued_.load(); }
  std::int64_t dropped() const { return dropped_.load(); }

  void add_totals(Summary& s) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < total_.size(); ++i) {
      s.requests[i].stats.merge(total_[i]);
      s.overall.merge(total_[i]);
    }
    for (std::size_t i = 0; i < scenario_counts_.size(); ++i)
      s.scenarios[shared_.plan.scenarios[i].name] += scenario_counts_[i];
    s.iterations_started += started_;
    s.iterations_completed += completed_;
    s.dropped += dropped_.load();
    s.vus_max += vus_max_;
  }

 private:
  // ---- workload ----------------------------------------------------------------------------
  asio::awaitable<void> arrivals() {
    ArrivalSchedule schedule(shared_.plan.phases);
    asio::steady_timer timer(io_);
    TimerGuard guard(*this, timer);
    const auto workers = shared_.options.threads;
    const std::int64_t cap = (shared_.options.max_in_flight + workers - 1) / workers;
    while (auto a = schedule.next()) {
      if (a->index % workers != index_) continue;
      auto when = shared_.start + a->at;
      if (when >= shared_.deadline || shared_.stopping) break;
      if (when > SteadyClock::now()) {
        timer.expires_at(when);
        error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || shared_.stopping) break;
      }
      const auto& phase = shared_.plan.phases[a->phase];
      if (phase.max_vusers && in_flight_ >= (*phase.max_vusers + workers - 1) / workers) {
        ++dropped_;  // Artillery's vusers.skipped
      } else if (in_flight_ < cap) {
        spawn_iteration(weights_(rng_), when);
      } else if (static_cast<std::int64_t>(queue_.size()) < queue_cap_) {
        queue_.push_back({weights_(rng_), when});
        queued_.store(static_cast<std::int64_t>(queue_.size()));
      } else {
        ++dropped_;
      }
    }
  }

  // An iteration ended: the oldest queued arrival takes its place, keeping its intended time.
  void start_queued() {
    if (queue_.empty() || shared_.stopping) return;
    auto next = queue_.front();
    queue_.pop_front();
    queued_.store(static_cast<std::int64_t>(queue_.size()));
    spawn_iteration(next.scenario, next.intended);
  }

  asio::awaitable<void> virtual_user(const VuGroup& g, int v) {
    asio::steady_timer timer(io_);
    TimerGuard guard(*this, timer);
    double offset = g.delay_s + (g.vus > 0 ? g.ramp_up_s * v / g.vus : 0);
    auto begin = shared_.start +
                 std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(offset));
    auto end = shared_.deadline;
    if (g.duration_s)
      end = std::min(end, shared_.start + std::chrono::duration_cast<SteadyClock::duration>(
                                              std::chrono::duration<double>(g.delay_s + *g.duration_s)));
    if (begin >= end) co_return;
    timer.expires_at(begin);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    for (std::int64_t i = 0; (g.loops < 0 || i < g.loops) && i < 1'000'000'000; ++i) {
      auto now = SteadyClock::now();
      if (now >= end || shared_.stopping) break;
      std::size_t scenario = g.scenario ? *g.scenario : weights_(rng_);
      ++in_flight_;
      co_await iteration(scenario, now);
    }
  }

  // Counted in flight from here, not from when the coroutine first runs, so that a burst of
  // overdue arrivals handled in one go still respects the caps.
  void spawn_iteration(std::size_t scenario, SteadyClock::time_point intended) {
    ++in_flight_;
    asio::co_spawn(io_, iteration(scenario, intended), asio::detached);
  }

  // Precondition: in_flight_ already counts this iteration.
  asio::awaitable<void> iteration(std::size_t scenario, SteadyClock::time_point intended) {
    {
      std::lock_guard lock(mutex_);
      ++started_;
      ++scenario_counts_[scenario];
      vus_max_ = std::max(vus_max_, in_flight_.load());
    }
    Iteration it = begin_iteration();
    bool ok = co_await run_steps(shared_.plan.scenarios[scenario].steps, it, intended, 0);
    --in_flight_;
    if (ok) {
      std::lock_guard lock(mutex_);
      ++completed_;
    }
    start_queued();
  }

  Iteration begin_iteration() {
    Iteration it;
    it.uuid = random_uuid(rng_);
    RenderContext ctx{it.vars, rng_, shared_.options.env, shared_.options.properties, it.uuid};
    for (const auto& v : shared_.plan.variables) {
      const auto& choice =
          v.choices[std::uniform_int_distribution<std::size_t>(0, v.choices.size() - 1)(rng_)];
      it.vars[v.name] = choice.render(ctx);
    }
    for (std::size_t p = 0; p < shared_.plan.payloads.size(); ++p) {
      const auto& payload = shared_.plan.payloads[p];
      std::size_t row = payload.sequential
                            ? shared_.payload_cursors[p]->fetch_add(1) % payload.rows.size()
                            : std::uniform_int_distribution<std::size_t>(0, payload.rows.size() - 1)(rng_);
      for (std::size_t f = 0; f < payload.fields.size() && f < payload.rows[row].size(); ++f)
        it.vars[payload.fields[f]] = payload.rows[row][f];
    }
    return it;
  }

  asio::awaitable<bool> run_steps(const std::vector<Step>& steps, Iteration& it,
                                  SteadyClock::time_point& intended, int depth) {
    for (const auto& step : steps) {
      if (shared_.stopping) co_return false;
      switch (step.kind) {
        case Step::Kind::request:
          if (!co_await request(step.request, it, intended)) co_return false;
          intended = SteadyClock::now();
          break;
        case Step::Kind::think: {
          double s = step.think_max_s > step.think_min_s
                         ? std::uniform_real_distribution<double>(step.think_min_s, step.think_max_s)(rng_)
                         : step.think_min_s;
          intended += std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
          asio::steady_timer timer(io_, intended);
          TimerGuard guard(*this, timer);
          error_code ec;
          co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return false;
          break;
        }
        case Step::Kind::loop:
          for (std::int64_t i = 0; i < step.loop_count; ++i)
            if (!co_await run_steps(step.loop_steps, it, intended, depth + 1)) co_return false;
          break;
      }
    }
    co_return true;
  }

  // ---- one request ---------------------------------------------------------------------------
  struct Outcome {
    int status = 0;  // 0: no response
    std::string error;
    std::int64_t sent = 0, received = 0;
    SteadyClock::time_point write_start{};
    std::string body;
    bool fatal = false;  // ends the iteration
  };

  std::string build_request(const RequestStep& rq, const Url& url, const RenderContext& ctx) const {
    std::string target = url.target, body, content_type;
    if (rq.json) {
      body = rq.json->render(ctx);
      content_type = "application/json";
    } else if (rq.body) {
      body = rq.body->render(ctx);
    }
    if (!rq.arguments.empty() || rq.post_body_raw) {
      std::vector<SamplerArgumentValue> values;
      values.reserve(rq.arguments.size());
      for (const auto& a : rq.arguments) values.push_back({a.name, a.value.render(ctx), a.always_encode, a.metadata});
      auto content = jmeter_sampler_content(rq.method, values, rq.post_body_raw);
      if (!content.query.empty()) target += (target.find('?') == std::string::npos ? "?" : "&") + content.query;
      if (content.has_body) {
        body = std::move(content.body);
        content_type = std::move(content.content_type);
      }
    }
    std::string out = rq.method + " " + target + " HTTP/1.1\r\nHost: " + url.host +
                      (url.port == "80" ? "" : ":" + url.port) + "\r\n";
    bool has_content_type = false, has_user_agent = false;
    auto add = [&](const std::string& name, const Template& value,
                   const std::vector<HeaderTemplate>* overrides) {
      if (overrides)
        for (const auto& o : *overrides)
          if (iequal(o.name, name)) return;
      has_content_type |= iequal(name, "content-type");
      has_user_agent |= iequal(name, "user-agent");
      out += name + ": " + value.render(ctx) + "\r\n";
    };
    for (const auto& h : shared_.plan.default_headers) add(h.name, h.value, &rq.headers);
    for (const auto& h : rq.headers) add(h.name, h.value, nullptr);
    if (!has_content_type && !content_type.empty()) out += "Content-Type: " + content_type + "\r\n";
    if (!has_user_agent) out += "User-Agent: mambogo-load\r\n";
    if (!body.empty() || rq.method == "POST" || rq.method == "PUT" || rq.method == "PATCH")
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += "\r\n";
    out += body;
    return out;
  }

  static bool iequal(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
  }

  std::optional<Url> resolve_url(const RequestStep& rq, const RenderContext& ctx) const {
    std::string path = rq.url.render(ctx);
    std::optional<Url> url;
    if (path.find("://") != std::string::npos) {
      url = parse_url(path);
    } else {
      std::string base = rq.base.render(ctx);
      if (base.empty())
        url = shared_.plan_target;
      else
        url = parse_url(base);
      if (url) url->target = path.empty() ? "/" : (path.front() == '/' ? path : "/" + path);
    }
    if (url && shared_.target) {
      url->host = shared_.target->host;
      url->port = shared_.target->port;
    }
    return url;
  }

  asio::awaitable<bool> request(const RequestStep& rq, Iteration& it, SteadyClock::time_point intended) {
    RenderContext ctx{it.vars, rng_, shared_.options.env, shared_.options.properties, it.uuid};
    Outcome out;
    auto url = resolve_url(rq, ctx);
    if (!url) {
      out.error = "invalid URL";
      out.fatal = true;
    } else {
      std::string wire = build_request(rq, *url, ctx);
      co_await exchange(*url, wire, rq.method == "HEAD", out);
    }
    auto end = SteadyClock::now();
    if (out.status) check(rq, it, out);
    record(rq, out, intended, end);
    co_return !out.fatal;
  }

  void check(const RequestStep& rq, Iteration& it, Outcome& out) const {
    if (!rq.captures.empty()) {
      auto doc = nlohmann::json::parse(out.body, nullptr, false);
      for (const auto& c : rq.captures) {
        auto v = doc.is_discarded() ? std::nullopt : c.path.find_text(doc);
        if (!v) {
          out.error = "capture failed: " + c.path.source();
          out.fatal = true;
          return;
        }
        it.vars[c.as] = *v;
      }
    }
    for (const auto& a : rq.assertions)
      if (!passes(a, out.status, out.body)) {
        out.error = "assertion failed";
        return;
      }
  }

  asio::awaitable<void> exchange(const Url& url, const std::string& wire, bool head, Outcome& out) {
    const std::string key = url.key();
    for (int attempt = 0; attempt < 2; ++attempt) {
      // The common case, a pooled connection, takes no coroutine frame.
      auto& idle = idle_[key];
      bool reused = !idle.empty();
      std::unique_ptr<Connection> conn;
      if (reused) {
        conn = std::move(idle.back());
        idle.pop_back();
      } else {
        conn = co_await connect(url, key, out);
      }
      if (!conn) co_return;
      StreamGuard guard(*this, conn->stream);
      out.write_start = SteadyClock::now();
      conn->stream.expires_after(shared_.options.request_timeout);
      error_code ec;
      co_await asio::async_write(conn->stream, asio::buffer(wire),
                                 asio::redirect_error(asio::use_awaitable, ec));
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      parser.skip(head);
      std::size_t got = 0;
      if (!ec)
        got = co_await http::async_read(conn->stream, conn->buffer, parser,
                                        asio::redirect_error(asio::use_awaitable, ec));
      bool stale = reused && got == 0 &&
                   (ec == http::error::end_of_stream || ec == asio::error::eof ||
                    ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
      if (stale && attempt == 0) continue;
      if (ec) {
        out.error = ec == asio::error::operation_aborted ? "cancelled" : transport_reason(ec, false);
        out.fatal = true;
        co_return;
      }
      out.sent = static_cast<std::int64_t>(wire.size());
      out.received = static_cast<std::int64_t>(got);
      auto& msg = parser.get();
      out.status = static_cast<int>(msg.result_int());
      out.body = std::move(msg.body());
      if (out.status >= 400) out.error = "status " + std::to_string(out.status);
      if (msg.keep_alive()) {
        conn->stream.expires_never();
        idle_[key].push_back(std::move(conn));
      }
      co_return;
    }
  }

  asio::awaitable<std::unique_ptr<Connection>> connect(const Url& url, const std::string& key, Outcome& out) {
    error_code ec;
    auto found = resolved_.find(key);
    if (found == resolved_.end()) {
      tcp::resolver resolver(io_);
      auto results =
          co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        out.error = "cannot resolve " + url.host;
        out.fatal = true;
        co_return nullptr;
      }
      found = resolved_.emplace(key, results).first;
    }
    auto c = std::make_unique<Connection>(io_);
    StreamGuard guard(*this, c->stream);
    c->stream.expires_after(shared_.options.connect_timeout);
    co_await c->stream.async_connect(found->second, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      out.error = ec == asio::error::operation_aborted ? "cancelled" : transport_reason(ec, true);
      out.fatal = true;
      co_return nullptr;
    }
    c->stream.socket().set_option(tcp::no_delay(true), ec);
    co_return c;
  }

  void record(const RequestStep& rq, const Outcome& out, SteadyClock::time_point intended,
              SteadyClock::time_point end) {
    auto us = [](SteadyClock::duration d) {
      return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    };
    std::int64_t corrected = us(end - intended);
    std::int64_t service =
        out.write_start == SteadyClock::time_point{} ? corrected : us(end - out.write_start);
    bool failed = !out.error.empty();
    auto apply = [&](RequestStats& s, bool with_errors) {
      ++s.count;
      s.failed += failed;
      s.bytes_sent += out.sent;
      s.bytes_received += out.received;
      s.classes.add(out.status);
      if (with_errors && failed) ++s.errors[out.error];
      s.corrected.record(corrected);
      s.service.record(service);
    };
    std::lock_guard lock(mutex_);
    apply(total_[shared_.request_index.at(&rq)], true);
    apply(interval_, false);
  }

  // ---- cancellation registry (this worker's thread only) --------------------------------------
  struct StreamGuard {
    StreamGuard(Worker& w, beast::tcp_stream& s) : w(w), s(&s) { w.streams_.insert(&s); }
    ~StreamGuard() { w.streams_.erase(s); }
    Worker& w;
    beast::tcp_stream* s;
  };
  struct TimerGuard {
    TimerGuard(Worker& w, asio::steady_timer& t) : w(w), t(&t) { w.timers_.insert(&t); }
    ~TimerGuard() { w.timers_.erase(t); }
    Worker& w;
    asio::steady_timer* t;
  };

  // Constant after construction.
  Shared& shared_;
  const int index_;
  // Owned by this worker's thread. The registries are declared before io_ because coroutine
  // frames still pending when io_ is destroyed unregister themselves from them.
  std::set<beast::tcp_stream*> streams_;
  std::set<asio::steady_timer*> timers_;
  asio::io_context io_{1};
  std::mt19937_64 rng_;
  std::discrete_distribution<std::size_t> weights_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::map<std::string, tcp::resolver::results_type> resolved_;
  struct Pending {
    std::size_t scenario;
    SteadyClock::time_point intended;
  };
  std::deque<Pending> queue_;
  const std::int64_t queue_cap_;
  std::thread thread_;
  // Read by the controller without a lock.
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> dropped_{0};
  std::atomic<std::int64_t> queued_{0};
  std::atomic<bool> done_{false};
  // Guarded by mutex_ (written here, merged by the controller).
  std::mutex mutex_;
  std::vector<RequestStats> total_;
  RequestStats interval_;
  std::vector<std::int64_t> scenario_counts_;
  std::int64_t started_ = 0, completed_ = 0, vus_max_ = 0;
};

class Engine::Impl {
 public:
  Impl(Plan plan, EngineOptions options) {
    shared_.plan = std::move(plan);
    shared_.options = std::move(options);
    validate();
  }

  void validate() {
    auto& plan = shared_.plan;
    auto& o = shared_.options;
    if (plan.scenarios.empty()) throw PlanError(plan.file, 0, "the plan has no scenarios");
    if (plan.phases.empty() && plan.groups.empty())
      throw PlanError(plan.file, 0,
                      "the plan has no workload (no phases or thread groups; give --rate or --vus)");
    if (o.threads < 1 || o.threads > 256) throw PlanError(plan.file, 0, "threads must be within 1..256");
    if (o.max_in_flight < 1 || o.max_queued < 0)
      throw PlanError(plan.file, 0, "max in-flight must be at least 1 and max queued not negative");
    if (!o.target.empty()) {
      shared_.target = parse_url(o.target);
      if (!shared_.target) throw PlanError(plan.file, 0, "target '" + o.target + "' is not http://host:port");
    }
    if (!plan.target.empty()) {
      shared_.plan_target = parse_url(plan.target);
      if (!shared_.plan_target)
        throw PlanError(plan.file, 0,
                        "target '" + plan.target + "' is not http://host:port (https is not supported)");
    } else if (shared_.target) {
      shared_.plan_target = shared_.target;
    }
    std::vector<double> w;
    for (const auto& s : plan.scenarios) {
      w.push_back(s.weight);
      index_requests(s.steps, shared_.request_index, shared_.request_names);
    }
    shared_.weights = std::discrete_distribution<std::size_t>(w.begin(), w.end());
    for (std::size_t i = 0; i < plan.payloads.size(); ++i)
      shared_.payload_cursors.push_back(std::make_unique<std::atomic<std::size_t>>(0));
  }

  Summary run(const SnapshotCallback& on_snapshot) {
    auto& o = shared_.options;
    std::uint64_t seed = o.seed ? *o.seed : std::random_device{}();
    double planned = shared_.plan.nominal_duration_s();
    double limit = o.max_duration_s ? *o.max_duration_s : (planned > 0 ? planned : 7 * 86'400.0);
    if (o.max_duration_s && planned > 0) limit = std::min(limit, planned);
    auto as_duration = [](double s) {
      return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
    };
    shared_.start = SteadyClock::now() + std::chrono::milliseconds(20);
    shared_.deadline = shared_.start + as_duration(limit);
    for (int i = 0; i < o.threads; ++i)
      workers_.push_back(std::make_unique<Worker>(shared_, i, seed + 7919 * static_cast<std::uint64_t>(i)));
    for (auto& w : workers_) w->start();

    Summary summary;
    summary.target = o.target.empty() ? shared_.plan.target : o.target;
    std::vector<RequestStats> spare(workers_.size());
    RequestStats interval;
    bool cancelled = false;
    auto last = shared_.start;
    for (std::int64_t tick = 1; tick < 100'000'000; ++tick) {
      auto next = shared_.start + o.snapshot_interval * tick;
      bool all_done = wait_until(next);
      auto now = SteadyClock::now();
      bool past_grace = now >= shared_.deadline + o.grace ||
                        (stop_requested_ && now >= stop_at_ + std::chrono::milliseconds(200));
      if ((past_grace || stop_requested_) && !cancelled) {
        shared_.stopping = true;
        for (auto& w : workers_) w->cancel_all();
        cancelled = true;
        summary.stopped_early = stop_requested_;
      }
      Snapshot snap = snapshot(spare, interval, now, last);
      last = now;
      if (snap.requests > 0 || !all_done) {
        summary.timeline.push_back(snap);
        if (on_snapshot) on_snapshot(snap);
      }
      if (all_done) break;
      if (cancelled && now >= shared_.deadline + o.grace + std::chrono::seconds(3)) {
        for (auto& w : workers_) w->force_stop();  // a handler ignored cancellation: stop hard
      }
    }
    for (auto& w : workers_) w->join();
    summary.duration_s = std::chrono::duration<double>(last - shared_.start).count();
    // A schedule that ran to its end lasted its planned time, even if its last arrival came early.
    if (shared_.plan.open_model() && !summary.stopped_early)
      summary.duration_s = std::max(summary.duration_s, limit);
    for (const auto& name : shared_.request_names) summary.requests.push_back({name, {}});
    for (auto& w : workers_) w->add_totals(summary);
    if (!summary.timeline.empty()) summary.timeline.back().dropped = summary.dropped;
    return summary;
  }

  void stop() {
    std::lock_guard lock(mutex_);
    if (!stop_requested_) stop_at_ = SteadyClock::now();
    stop_requested_ = true;
    shared_.stopping = true;
    cv_.notify_all();
  }

 private:
  // Sleeps until `t`, waking early on stop(); returns whether every worker has finished.
  bool wait_until(SteadyClock::time_point t) {
    std::unique_lock lock(mutex_);
    while (SteadyClock::now() < t) {
      if (std::all_of(workers_.begin(), workers_.end(), [](auto& w) { return w->done(); })) return true;
      cv_.wait_until(lock, std::min(t, SteadyClock::now() + std::chrono::milliseconds(50)));
      if (stop_requested_ && SteadyClock::now() >= stop_at_ + std::chrono::milliseconds(200)) break;
    }
    return std::all_of(workers_.begin(), workers_.end(), [](auto& w) { return w->done(); });
  }

  Snapshot snapshot(std::vector<RequestStats>& spare, RequestStats& interval, SteadyClock::time_point now,
                    SteadyClock::time_point last) {
    interval.count = interval.failed = interval.bytes_sent = interval.bytes_received = 0;
    interval.classes = {};
    interval.corrected.reset();
    interval.service.reset();
    Snapshot s;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      workers_[i]->take_interval(spare[i]);
      interval.merge(spare[i]);
      spare[i].count = spare[i].failed = spare[i].bytes_sent = spare[i].bytes_received = 0;
      spare[i].classes = {};
      spare[i].corrected.reset();
      spare[i].service.reset();
      s.in_flight += workers_[i]->in_flight();
      s.queued += workers_[i]->queued();
      s.dropped += workers_[i]->dropped();
    }
    total_requests_ += interval.count;
    double seconds = std::max(1e-9, std::chrono::duration<double>(now - last).count());
    s.elapsed_s = std::chrono::duration<double>(now - shared_.start).count();
    s.phase = phase_name(s.elapsed_s);
    s.requests = interval.count;
    s.rps = static_cast<double>(interval.count) / seconds;
    s.failed = interval.failed;
    s.classes = interval.classes;
    s.latency = Percentiles::of(interval.corrected);
    s.service = Percentiles::of(interval.service);
    s.total_requests = total_requests_;
    return s;
  }

  std::string phase_name(double elapsed) const {
    const auto& plan = shared_.plan;
    if (plan.open_model()) return plan.phases[phase_at(plan.phases, elapsed)].name;
    std::string names;
    for (const auto& g : plan.groups) names += (names.empty() ? "" : ", ") + g.name;
    return names;
  }

  Shared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::int64_t total_requests_ = 0;
  std::mutex mutex_;  // guards stop_requested_, stop_at_ (with cv_)
  std::condition_variable cv_;
  bool stop_requested_ = false;
  SteadyClock::time_point stop_at_;
};

Engine::Engine(Plan plan, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(plan), std::move(options))) {}
Engine::~Engine() = default;
Summary Engine::run(const SnapshotCallback& on_snapshot) { return impl_->run(on_snapshot); }
void Engine::stop() { impl_->stop(); }

}  // namespace mambogo::load

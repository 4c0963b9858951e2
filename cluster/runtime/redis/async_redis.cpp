#include "runtime/redis/async_redis.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/http_server.h"  // IoLoop
#include "runtime/redis/resp.h"

namespace mambogo::runtime::redis {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

RedisReply unavailable(std::string reason) {
  RedisReply r;
  r.type = RedisReply::Type::unavailable;
  r.str = std::move(reason);
  return r;
}

}  // namespace

// One connection on one loop. Every member is touched only on that loop's thread (or, once the
// loop has ended, by the one thread that retires the link).
class AsyncRedis::Link {
 public:
  Link(AsyncRedis& owner, asio::io_context& ioc) : owner_(owner), ioc_(ioc), socket_(ioc), timer_(ioc) {}

  void send(std::span<const std::string_view> args, Callback done, bool probe) {
    if (stopping_) return fail_later(std::move(done), probe, "the client is shutting down");
    append_command(out_, args);
    waiters_.push_back({std::move(done), SteadyClock::now(), {}, probe, false});
    if (state_ == State::closed) return connect();
    schedule_flush();
  }

  // A command refused before the network (Redis down): answered from the loop, not from inside
  // command_argv().
  void refuse(Callback done, RedisReply reply) {
    ++ops_;
    asio::post(ioc_, [this, done = std::move(done), reply = std::move(reply)]() mutable {
      --ops_;
      owner_.on_result(reply, false, false, SteadyClock::now());
      call(done, std::move(reply));
    });
  }

  // Fails everything outstanding and closes; handlers still queued then find stopping_.
  void shut_down() {
    stopping_ = true;
    fail_all("the client is shutting down", false);
  }
  bool drained() const { return ops_ == 0; }
  bool open() const { return state_ == State::open; }

 private:
  enum class State { closed, connecting, open };
  struct Waiter {
    Callback done;
    SteadyClock::time_point started;
    SteadyClock::time_point deadline;  // set when written
    bool probe = false;
    bool written = false;
  };

  void connect() {
    state_ = State::connecting;
    connect_deadline_ = SteadyClock::now() + owner_.options_.connect_timeout;
    arm_timer(connect_deadline_);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(owner_.options_.host, ec);
    if (ec) return start_resolve();
    start_connect(tcp::endpoint(address, static_cast<unsigned short>(owner_.options_.port)));
  }

  void start_resolve() {
    ++ops_;
    resolver_.emplace(ioc_);
    resolver_->async_resolve(owner_.options_.host, std::to_string(owner_.options_.port),
                             [this, gen = generation_](const boost::system::error_code& ec,
                                                       tcp::resolver::results_type results) {
                               --ops_;
                               if (gen != generation_ || stopping_) return;
                               if (ec || results.empty()) return connect_failed("resolve " + where() + ": " + ec.message());
                               start_connect(*results.begin());
                             });
  }

  void start_connect(const tcp::endpoint& endpoint) {
    ++ops_;
    socket_.async_connect(endpoint, [this, gen = generation_](const boost::system::error_code& ec) {
      --ops_;
      if (gen != generation_ || stopping_) return;
      if (ec) return connect_failed("connect " + where() + ": " + ec.message());
      boost::system::error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
      socket_.set_option(asio::socket_base::keep_alive(true), ignored);
      state_ = State::open;
      owner_.connected();
      read();
      flush();
    });
  }

  void connect_failed(const std::string& reason) {
    owner_.count_connect_failure();
    fail_all(reason, true);
  }

  // Writes once the handlers already queued on the loop have run, so that the commands they
  // issue (one per request ready in the same epoll round) share one write system call.
  void schedule_flush() {
    if (flush_scheduled_ || writing_) return;  // a write in progress flushes on completion
    flush_scheduled_ = true;
    ++ops_;
    asio::post(ioc_, [this] {
      --ops_;
      flush_scheduled_ = false;
      if (!stopping_) flush();
    });
  }

  void flush() {
    if (state_ != State::open || writing_ || out_.empty()) return;
    writing_ = true;
    write_buffer_.swap(out_);
    out_.clear();
    const auto deadline = SteadyClock::now() + owner_.options_.command_timeout;
    for (auto it = waiters_.rbegin(); it != waiters_.rend() && !it->written; ++it) {
      it->written = true;
      it->deadline = deadline;
    }
    // Also when the timer waits for a later moment (the connect deadline, when connect_timeout
    // is longer than command_timeout): the command's own deadline comes first.
    if (!timer_armed_ || deadline < timer_.expiry()) arm_timer(deadline);
    ++ops_;
    asio::async_write(socket_, asio::buffer(write_buffer_),
                      [this, gen = generation_](const boost::system::error_code& ec, std::size_t) {
                        --ops_;
                        if (gen != generation_ || stopping_) return;
                        writing_ = false;
                        if (ec) return fail_all("write " + where() + ": " + ec.message(), true);
                        flush();
                      });
  }

  void read() {
    static constexpr std::size_t kMaxReply = 64 * 1024 * 1024;
    if (filled_ > kMaxReply) return fail_all("redis " + where() + " sent a reply beyond 64 MiB", true);
    if (in_.size() - filled_ < 4096) in_.resize(std::max(in_.size() * 2, filled_ + 8192));
    ++ops_;
    socket_.async_read_some(asio::buffer(in_.data() + filled_, in_.size() - filled_),
                            [this, gen = generation_](const boost::system::error_code& ec, std::size_t n) {
                              --ops_;
                              if (gen != generation_ || stopping_) return;
                              if (ec) return lost(ec);
                              filled_ += n;
                              if (!deliver_replies()) return;
                              read();
                            });
  }

  // Hands every complete reply to its waiter. False when the connection had to be closed.
  bool deliver_replies() {
    while (parsed_ < filled_) {
      RedisReply reply;
      const std::string_view data(in_.data(), filled_);
      std::size_t pos = parsed_;
      const ParseResult r = parse_reply(data, pos, reply);
      if (r == ParseResult::incomplete) break;
      if (r == ParseResult::malformed || waiters_.empty() || !waiters_.front().written) {
        fail_all("redis " + where() + " sent a reply that cannot be matched to a command", true);
        return false;
      }
      parsed_ = pos;
      Waiter w = std::move(waiters_.front());
      waiters_.pop_front();
      owner_.on_result(reply, w.probe, true, w.started);
      call(w.done, std::move(reply));
      if (state_ != State::open) return false;  // a callback's command could not change this, but stay safe
    }
    // Keep the unparsed tail at the front of the buffer.
    if (parsed_ == filled_) {
      parsed_ = filled_ = 0;
    } else if (parsed_ > 0) {
      std::copy(in_.begin() + static_cast<std::ptrdiff_t>(parsed_), in_.begin() + static_cast<std::ptrdiff_t>(filled_),
                in_.begin());
      filled_ -= parsed_;
      parsed_ = 0;
    }
    return true;
  }

  void lost(const boost::system::error_code& ec) {
    const bool in_flight = std::any_of(waiters_.begin(), waiters_.end(), [](const Waiter& w) { return w.written; });
    // Commands in flight cannot be answered: they may have run.
    if (in_flight) return fail_all("redis connection " + where() + " lost: " + ec.message(), true);
    // An idle connection the server closed (a restart, a timeout on its side) is simply
    // dropped. Commands queued behind the close but not yet written go out on a new one (they
    // were failed as "lost" before, without marking Redis down, when a stop raced them).
    close();
    if (!waiters_.empty()) connect();
  }

  void arm_timer(SteadyClock::time_point at) {
    timer_armed_ = true;
    timer_.expires_at(at);  // a wait already armed completes with operation_aborted
    ++ops_;
    timer_.async_wait([this, gen = ++timer_generation_](const boost::system::error_code&) {
      --ops_;
      if (gen != timer_generation_ || stopping_) return;
      timer_armed_ = false;
      on_timer();
    });
  }

  void on_timer() {
    const auto now = SteadyClock::now();
    if (state_ == State::connecting) {
      if (now >= connect_deadline_) {
        owner_.count_connect_failure();
        return fail_all("connect " + where() + " timed out after " +
                            std::to_string(owner_.options_.connect_timeout.count()) + " ms",
                        true);
      }
      return arm_timer(connect_deadline_);
    }
    if (waiters_.empty() || !waiters_.front().written) return;  // re-armed by the next flush
    if (now >= waiters_.front().deadline) {
      owner_.count_timeout();
      return fail_all("command timed out after " + std::to_string(owner_.options_.command_timeout.count()) + " ms",
                      true);
    }
    arm_timer(waiters_.front().deadline);
  }

  // Closes the connection and fails every waiter. redis_fault: Redis itself is in trouble (it
  // is marked down), rather than an idle connection dropped or the client stopping.
  void fail_all(const std::string& reason, bool redis_fault) {
    close();
    std::deque<Waiter> failed = std::move(waiters_);
    waiters_.clear();
    out_.clear();
    if (redis_fault) owner_.mark_down(reason);
    for (Waiter& w : failed) {
      RedisReply reply = unavailable(reason);
      owner_.on_result(reply, w.probe, w.written, w.started);
      call(w.done, std::move(reply));
    }
  }

  void close() {
    if (state_ == State::open) owner_.disconnected();
    state_ = State::closed;
    ++generation_;  // completions of this socket's operations are stale from now on
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (resolver_) resolver_->cancel();
    ++timer_generation_;
    timer_.cancel();
    timer_armed_ = false;
    writing_ = false;
    write_buffer_.clear();
    in_.clear();
    parsed_ = filled_ = 0;
  }

  void fail_later(Callback done, bool probe, std::string reason) {
    ++ops_;
    asio::post(ioc_, [this, done = std::move(done), probe, reason = std::move(reason)] {
      --ops_;
      RedisReply reply = unavailable(reason);
      owner_.on_result(reply, probe, false, SteadyClock::now());
      call(done, std::move(reply));
    });
  }

  static void call(const Callback& done, RedisReply reply) {
    try {
      done(std::move(reply));
    } catch (...) {
    }
  }

  std::string where() const { return owner_.options_.host + ":" + std::to_string(owner_.options_.port); }

  AsyncRedis& owner_;
  asio::io_context& ioc_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::optional<tcp::resolver> resolver_;
  State state_ = State::closed;
  std::uint64_t generation_ = 0;        // of the socket: bumped by close()
  std::uint64_t timer_generation_ = 0;  // of the timer wait: bumped by every arm and close()
  bool timer_armed_ = false;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool stopping_ = false;
  int ops_ = 0;  // handlers still to run that refer to this link
  SteadyClock::time_point connect_deadline_{};
  std::string out_;           // commands not yet handed to the socket
  std::string write_buffer_;  // commands being written
  std::string in_;            // received bytes: [parsed_, filled_) not yet parsed
  std::size_t parsed_ = 0;
  std::size_t filled_ = 0;
  std::deque<Waiter> waiters_;  // in the order sent; written ones first
};

// The links, one per loop, and the client's own loop for callers on other threads.
struct AsyncRedis::Shared {
  struct Entry {
    std::shared_ptr<IoLoop> loop;
    std::unique_ptr<Link> link;
  };
  std::mutex mutex;            // guards entries (not the links' state)
  std::vector<Entry> entries;
  asio::io_context own_ioc{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread own_thread;
};

AsyncRedis::AsyncRedis(RedisOptions options, prometheus::Registry* registry, const Clock& clock)
    : options_(std::move(options)), clock_(clock), shared_(std::make_unique<Shared>()) {
  if (options_.connect_timeout <= milliseconds::zero() || options_.command_timeout <= milliseconds::zero() ||
      options_.backoff_initial <= milliseconds::zero() || options_.backoff_max < options_.backoff_initial)
    throw std::invalid_argument("async redis: need positive timeouts, backoff_max >= backoff_initial");
  if (registry) {
    auto& commands = prometheus::BuildCounter()
                         .Name("redis_async_commands_total")
                         .Help("Pipelined Redis commands by outcome: ok (answered), error (error reply), "
                               "unavailable (no answer)")
                         .Register(*registry);
    ok_counter_ = &commands.Add({{"result", "ok"}});
    error_counter_ = &commands.Add({{"result", "error"}});
    unavailable_counter_ = &commands.Add({{"result", "unavailable"}});
    seconds_ = &prometheus::BuildHistogram()
                    .Name("redis_async_command_seconds")
                    .Help("Time of pipelined Redis commands that reached the network, from issue to reply")
                    .Register(*registry)
                    .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                                     0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
    connections_gauge_ = &prometheus::BuildGauge()
                              .Name("redis_async_connections")
                              .Help("Open pipelined Redis connections (one per I/O thread at most)")
                              .Register(*registry)
                              .Add({});
    up_gauge_ = &prometheus::BuildGauge()
                     .Name("redis_async_up")
                     .Help("1 when the last pipelined contact with Redis succeeded, 0 while it is down or not yet "
                           "contacted")
                     .Register(*registry)
                     .Add({});
  }
  shared_->work.emplace(asio::make_work_guard(shared_->own_ioc));
  shared_->own_thread = std::thread([this] {
    IoLoop::Scope loop(shared_->own_ioc);
    shared_->own_ioc.run();
  });
}

AsyncRedis::~AsyncRedis() {
  // Commands posted to the own loop from other threads reach their link first.
  std::promise<void> barrier;
  asio::post(shared_->own_ioc, [&barrier] { barrier.set_value(); });
  barrier.get_future().wait();
  for (auto& e : shared_->entries) {
    Link* link = e.link.get();
    IoLoop::retire(
        e.loop, this, [link] { link->shut_down(); }, [link] { return link->drained(); },
        [link] { link->shut_down(); });
  }
  shared_->work.reset();
  shared_->own_ioc.stop();
  shared_->own_thread.join();
  shared_->entries.clear();
}

AsyncRedis::Link& AsyncRedis::link_for_current_loop() {
  IoLoop& loop = *IoLoop::current();
  if (void* found = loop.find(this)) return *static_cast<Link*>(found);
  auto link = std::make_unique<Link>(*this, loop.context());
  Link& ref = *link;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->entries.push_back({loop.share(), std::move(link)});
  }
  loop.attach(this, &ref);
  return ref;
}

void AsyncRedis::command_argv(std::span<const std::string_view> args, Callback done) {
  if (args.empty()) throw std::invalid_argument("redis command without arguments");
  if (!IoLoop::current()) {
    std::vector<std::string> copy(args.begin(), args.end());
    asio::post(shared_->own_ioc, [this, copy = std::move(copy), done = std::move(done)]() mutable {
      std::vector<std::string_view> views(copy.begin(), copy.end());
      command_argv(views, std::move(done));
    });
    return;
  }
  Link& link = link_for_current_loop();
  bool probe = false;
  if (auto refused = admit(probe)) return link.refuse(std::move(done), std::move(*refused));
  link.send(args, std::move(done), probe);
}

std::optional<RedisReply> AsyncRedis::admit(bool& probe) {
  if (!down_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (state_ != State::down) return std::nullopt;
  const auto now = clock_.now();
  if (now < down_until_ || probing_) {
    ++counts_.fast_failures;
    const auto wait = std::max(milliseconds::zero(), duration_cast<milliseconds>(down_until_ - now));
    return unavailable("redis " + options_.host + ":" + std::to_string(options_.port) + " is down (" + last_error_ +
                       "); next attempt in " + std::to_string(wait.count()) + " ms");
  }
  probing_ = true;
  probe = true;
  return std::nullopt;
}

void AsyncRedis::on_result(const RedisReply& reply, bool probe, bool reached_network,
                           std::chrono::steady_clock::time_point started) {
  if (reached_network && seconds_)
    seconds_->Observe(std::chrono::duration<double>(SteadyClock::now() - started).count());
  if (ok_counter_) {
    if (reply.is_unavailable()) unavailable_counter_->Increment();
    else if (reply.type == RedisReply::Type::error) error_counter_->Increment();
    else ok_counter_->Increment();
  }
  if (reply.is_unavailable()) {
    if (probe) {
      std::lock_guard lock(mutex_);
      probing_ = false;
    }
    return;
  }
  // An answer: Redis is up. The lock is taken only on the transition.
  if (!probe && state_up_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mutex_);
  if (probe) probing_ = false;
  state_ = State::up;
  backoff_ = milliseconds::zero();
  last_error_.clear();
  counts_.up = true;
  down_.store(false, std::memory_order_release);
  state_up_.store(true, std::memory_order_release);
  if (up_gauge_) up_gauge_->Set(1);
}

void AsyncRedis::mark_down(const std::string& reason) {
  std::lock_guard lock(mutex_);
  // Many in-flight commands fail together when Redis goes away; only the first failure (or a
  // failed probe) lengthens the backoff.
  if (state_ != State::down || clock_.now() >= down_until_) {
    backoff_ = backoff_ == milliseconds::zero() ? options_.backoff_initial : std::min(backoff_ * 2, options_.backoff_max);
    down_until_ = clock_.now() + backoff_;
  }
  state_ = State::down;
  last_error_ = reason;
  counts_.up = false;
  state_up_.store(false, std::memory_order_release);
  down_.store(true, std::memory_order_release);
  if (up_gauge_) up_gauge_->Set(0);
}

void AsyncRedis::connected() {
  std::lock_guard lock(mutex_);
  ++counts_.connects;
  ++counts_.connections;
  if (connections_gauge_) connections_gauge_->Increment();
}

void AsyncRedis::disconnected() {
  std::lock_guard lock(mutex_);
  --counts_.connections;
  if (connections_gauge_) connections_gauge_->Decrement();
}

void AsyncRedis::count_connect_failure() {
  std::lock_guard lock(mutex_);
  ++counts_.connect_failures;
}

void AsyncRedis::count_timeout() {
  std::lock_guard lock(mutex_);
  ++counts_.timeouts;
}

CheckResult AsyncRedis::health_check() const {
  std::lock_guard lock(mutex_);
  nlohmann::json details = {{"host", options_.host},
                            {"port", options_.port},
                            {"connections", counts_.connections},
                            {"pipelined", true}};
  if (state_ != State::down) {
    details["state"] = state_ == State::up ? "up" : "unknown";
    return {HealthStatus::up, std::move(details)};
  }
  const auto wait = std::max(milliseconds::zero(), duration_cast<milliseconds>(down_until_ - clock_.now()));
  details["state"] = "down";
  details["error"] = last_error_;
  details["nextAttemptInMs"] = wait.count();
  return {HealthStatus::degraded, std::move(details)};
}

AsyncRedisStats AsyncRedis::stats() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace mambogo::runtime::redis

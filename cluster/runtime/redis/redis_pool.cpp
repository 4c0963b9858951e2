#include "runtime/redis/redis_pool.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <stdexcept>

#include <hiredis/hiredis.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace mambogo::runtime::redis {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

timeval to_timeval(milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

RedisReply unavailable(std::string reason) {
  RedisReply r;
  r.type = RedisReply::Type::unavailable;
  r.str = std::move(reason);
  return r;
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::string; break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::status; break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::error; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::integer; break;
    case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::array; break;
    default: out.type = RedisReply::Type::nil; break;
  }
  if (r->str) out.str.assign(r->str, r->len);
  out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

// A write to a socket the server has closed raises SIGPIPE on the writing thread. Keep it
// blocked during the command and swallow it if it came, so the process's disposition (which
// belongs to the application) is never changed.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!already_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        const int saved = errno;
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
        errno = saved;
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool already_pending_ = false;
};

}  // namespace

const char* to_string(RedisReply::Type t) {
  switch (t) {
    case RedisReply::Type::nil: return "nil";
    case RedisReply::Type::string: return "string";
    case RedisReply::Type::integer: return "integer";
    case RedisReply::Type::array: return "array";
    case RedisReply::Type::status: return "status";
    case RedisReply::Type::error: return "error";
    case RedisReply::Type::unavailable: return "unavailable";
  }
  return "unknown";
}

struct RedisPool::Lease {
  Context ctx;
  bool fresh = false;  // opened for this command, so a failure cannot be staleness
  bool probe = false;  // this call decides whether a down Redis is back
};

void RedisPool::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisPool::RedisPool(RedisOptions options, prometheus::Registry* registry, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  if (options_.pool_size < 1 || options_.connect_timeout <= milliseconds::zero() ||
      options_.command_timeout <= milliseconds::zero() || options_.borrow_timeout < milliseconds::zero() ||
      options_.backoff_initial <= milliseconds::zero() || options_.backoff_max < options_.backoff_initial)
    throw std::invalid_argument("redis pool: need pool_size >= 1, positive timeouts, backoff_max >= backoff_initial");
  if (!registry) return;
  auto& commands = prometheus::BuildCounter()
                       .Name("redis_commands_total")
                       .Help("Redis commands by outcome: ok (answered), error (error reply), unavailable (no answer)")
                       .Register(*registry);
  ok_counter_ = &commands.Add({{"result", "ok"}});
  error_counter_ = &commands.Add({{"result", "error"}});
  unavailable_counter_ = &commands.Add({{"result", "unavailable"}});
  seconds_ = &prometheus::BuildHistogram()
                  .Name("redis_command_seconds")
                  .Help("Time of Redis commands that reached the network, borrowing included")
                  .Register(*registry)
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                                   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                   1, 2.5});
  auto& connections = prometheus::BuildGauge()
                          .Name("redis_pool_connections")
                          .Help("Redis connections by state")
                          .Register(*registry);
  active_gauge_ = &connections.Add({{"state", "active"}});
  idle_gauge_ = &connections.Add({{"state", "idle"}});
  up_gauge_ = &prometheus::BuildGauge()
                   .Name("redis_up")
                   .Help("1 when the last contact with Redis succeeded, 0 while it is down or not yet contacted")
                   .Register(*registry)
                   .Add({});
  prometheus::BuildGauge()
      .Name("redis_pool_size")
      .Help("Configured maximum number of Redis connections")
      .Register(*registry)
      .Add({})
      .Set(options_.pool_size);
}

RedisPool::~RedisPool() = default;

RedisPool::Context RedisPool::connect(std::string& error) {
  Context c(redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.connect_timeout)));
  if (!c) {
    error = "cannot allocate a redis context";
    return nullptr;
  }
  if (c->err) {
    error = "connect " + options_.host + ":" + std::to_string(options_.port) + ": " + c->errstr;
    return nullptr;
  }
  if (redisSetTimeout(c.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
    error = std::string("set timeout: ") + c->errstr;
    return nullptr;
  }
  redisEnableKeepAlive(c.get());
  std::lock_guard lock(mutex_);
  ++counts_.connects;
  return c;
}

RedisReply RedisPool::acquire(Lease& lease) {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.borrow_timeout;
  while (true) {
    if (state_ == State::down && !lease.probe) {
      const auto now = clock_.now();
      if (now < down_until_ || probing_) {
        ++counts_.fast_failures;
        const auto wait = std::max(milliseconds::zero(), duration_cast<milliseconds>(down_until_ - now));
        return unavailable("redis " + options_.host + ":" + std::to_string(options_.port) + " is down (" +
                           last_error_ + "); next attempt in " + std::to_string(wait.count()) + " ms");
      }
      probing_ = true;
      lease.probe = true;
    }
    if (!idle_.empty()) {
      lease.ctx = std::move(idle_.back());
      idle_.pop_back();
      ++active_;
      publish_locked();
      return {};
    }
    if (active_ < options_.pool_size) {
      ++active_;  // the slot is ours while we connect without the lock
      publish_locked();
      lock.unlock();
      std::string error;
      lease.ctx = connect(error);
      lease.fresh = true;
      if (lease.ctx) return {};
      lock.lock();
      --active_;
      ++counts_.connect_failures;
      if (lease.probe) probing_ = false;
      mark_down(error);
      publish_locked();
      released_.notify_all();
      return unavailable(error);
    }
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (lease.probe) probing_ = false;
      return unavailable("redis pool exhausted: all " + std::to_string(options_.pool_size) + " connections busy for " +
                         std::to_string(options_.borrow_timeout.count()) + " ms");
    }
  }
}

RedisReply RedisPool::run(redisContext* c, std::span<const std::string_view> args, Failure& failure) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  redisReply* raw = nullptr;
  int saved_errno = 0;
  {
    SigpipeGuard guard;
    errno = 0;
    raw = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), argvlen.data()));
    saved_errno = errno;
  }
  if (!raw) {
    // hiredis 0.14 reports a read timeout as an I/O error with EAGAIN.
    const bool timed_out = c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
                                                      std::string_view(c->errstr) == std::strerror(EAGAIN));
    failure = timed_out ? Failure::timeout : Failure::io;
    return unavailable(timed_out ? "command timed out after " + std::to_string(options_.command_timeout.count()) + " ms"
                                 : std::string("redis connection failed: ") + c->errstr);
  }
  failure = Failure::none;
  RedisReply reply = convert(raw);
  freeReplyObject(raw);
  return reply;
}

RedisReply RedisPool::command_argv(std::span<const std::string_view> args) {
  if (args.empty()) throw std::invalid_argument("redis command without arguments");
  const auto started = std::chrono::steady_clock::now();
  Lease lease;
  if (RedisReply refused = acquire(lease); refused.is_unavailable()) {
    count(refused);
    return refused;
  }
  Failure failure = Failure::none;
  RedisReply reply = run(lease.ctx.get(), args, failure);
  if (failure == Failure::io && !lease.fresh) {
    // Most likely a connection the server closed while it sat idle (a restart): the command
    // never reached a live server, so one retry on a new connection is safe.
    lease.ctx.reset();
    std::string error;
    lease.ctx = connect(error);
    lease.fresh = true;
    if (lease.ctx)
      reply = run(lease.ctx.get(), args, failure);
    else
      reply = unavailable(error);
  }
  if (seconds_)
    seconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  Context dead;  // closed after the lock is released
  {
    std::lock_guard lock(mutex_);
    --active_;
    if (lease.probe) probing_ = false;
    if (failure == Failure::none && lease.ctx) {
      idle_.push_back(std::move(lease.ctx));
      mark_up();
    } else {
      dead = std::move(lease.ctx);
      if (!dead) ++counts_.connect_failures;  // the retry could not reconnect
      // A timeout, or a failure on a connection we just opened, says Redis itself is in
      // trouble; a stale idle connection alone would not get here (it was retried).
      if (state_ != State::down || lease.probe) mark_down(reply.str);
    }
    publish_locked();
  }
  released_.notify_all();
  count(reply);
  return reply;
}

bool RedisPool::ping() {
  const RedisReply r = command("PING");
  return r.type == RedisReply::Type::status && r.str == "PONG";
}

void RedisPool::mark_up() {
  state_ = State::up;
  backoff_ = milliseconds::zero();
  last_error_.clear();
}

void RedisPool::mark_down(const std::string& reason) {
  // Many in-flight commands fail together when Redis goes away; only the first failure (or a
  // failed probe) lengthens the backoff.
  if (state_ != State::down || clock_.now() >= down_until_) {
    backoff_ = backoff_ == milliseconds::zero() ? options_.backoff_initial
                                                : std::min(backoff_ * 2, options_.backoff_max);
    down_until_ = clock_.now() + backoff_;
  }
  state_ = State::down;
  last_error_ = reason;
  idle_.clear();  // connections to a failed server are not worth keeping
}

void RedisPool::publish_locked() {
  counts_.active = active_;
  counts_.idle = static_cast<int>(idle_.size());
  counts_.up = state_ == State::up;
  if (!active_gauge_) return;
  active_gauge_->Set(active_);
  idle_gauge_->Set(static_cast<double>(idle_.size()));
  up_gauge_->Set(state_ == State::up ? 1 : 0);
}

void RedisPool::count(const RedisReply& reply) {
  if (!ok_counter_) return;
  if (reply.is_unavailable())
    unavailable_counter_->Increment();
  else if (reply.type == RedisReply::Type::error)
    error_counter_->Increment();
  else
    ok_counter_->Increment();
}

CheckResult RedisPool::health_check() const {
  std::lock_guard lock(mutex_);
  nlohmann::json details = {{"host", options_.host}, {"port", options_.port},
                            {"active", active_},     {"idle", idle_.size()},
                            {"poolSize", options_.pool_size}};
  if (state_ != State::down) {
    details["state"] = state_ == State::up ? "up" : "unknown";
    return {HealthStatus::up, std::move(details)};
  }
  const auto wait = std::max(milliseconds::zero(), duration_cast<milliseconds>(down_until_ - clock_.now()));
  details["state"] = "down";
  details["error"] = last_error_;
  details["nextAttemptInMs"] = wait.count();
  details["impact"] = "Redis unreachable: requests bypass it (slower, still served)";
  return {HealthStatus::degraded, std::move(details)};
}

RedisPoolStats RedisPool::stats() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace mambogo::runtime::redis

// A small pool of synchronous hiredis connections to one Redis server, built so that a dead
// or hanging Redis costs the caller almost nothing: the service keeps serving from its other
// layers and the metrics and the health check say why.
//
//   - At most `pool_size` connections exist. A caller borrows an idle one, or opens a new one
//     while below the size, or waits for one (at most borrow_timeout).
//   - Connections open lazily (nothing happens in the constructor) with connect_timeout, and
//     every command is bounded by command_timeout (redisSetTimeout).
//   - A connection that fails (I/O error, EOF, timeout) is closed and never handed out again.
//     When a reused connection turns out to be stale (the server restarted since it was last
//     used) the command is retried once on a fresh connection; nothing else is retried.
//   - A failed connect or a command timeout marks Redis *down* until now + backoff (backoff
//     doubles per consecutive failure, from backoff_initial up to backoff_max, and resets on a
//     success). While down, every call fails at once with Type::unavailable, without touching
//     the network. When the time has passed, exactly one caller probes with a real command;
//     the others keep failing fast until the probe succeeds (a half-open breaker).
//
// Metrics (registry may be null): redis_commands_total{result=ok|error|unavailable},
// redis_command_seconds (histogram, calls that reached the network), redis_pool_connections
// {state=active|idle}, redis_up (1 after a success, 0 while down or before first contact),
// redis_pool_size (configured maximum).
//
// Health: health_check() reports the state kept by the pool, never blocks: UP, or DEGRADED
// (never DOWN: a service without its cache is slower, not broken) with the last error and the
// time until the next attempt. Before the first contact it reports UP with state "unknown";
// call ping() periodically (runtime/resilience/interval_function.h) to keep it fresh when idle.
//
// SIGPIPE: a write to a connection the server has closed would raise SIGPIPE. The pool blocks
// it on the calling thread for the duration of a command and discards a pending one, so it
// needs no process-wide signal disposition.
//
// Thread-safety: every public member may be called from any thread. The clock must outlive
// the pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/clock.h"
#include "runtime/health.h"

struct redisContext;

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace mambogo::runtime::redis {

// A Redis reply, or the reason there is none.
struct RedisReply {
  enum class Type {
    nil,
    string,
    integer,
    array,
    status,       // simple string: "OK", "PONG"
    error,        // Redis answered with an error ("WRONGTYPE ..."): the server is fine
    unavailable,  // no answer: down, connect failed, timed out, pool exhausted
  };

  Type type = Type::nil;
  std::string str;  // string, status, error: the bytes (binary-safe); unavailable: the reason
  long long integer = 0;
  std::vector<RedisReply> elements;  // array

  // Redis answered (nil included), and not with an error.
  bool ok() const { return type != Type::error && type != Type::unavailable; }
  bool is_nil() const { return type == Type::nil; }
  bool is_unavailable() const { return type == Type::unavailable; }
};
const char* to_string(RedisReply::Type t);

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{500};
  std::chrono::milliseconds borrow_timeout{500};  // waiting for a connection when all are busy
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10'000};
};

struct RedisPoolStats {
  int active = 0;  // borrowed right now
  int idle = 0;
  bool up = false;
  std::uint64_t connects = 0;         // successful connects, ever
  std::uint64_t connect_failures = 0;
  std::uint64_t fast_failures = 0;    // calls refused without network while down
};

class RedisPool {
 public:
  // Throws std::invalid_argument on pool_size < 1 or a non-positive timeout.
  RedisPool(RedisOptions options, prometheus::Registry* registry, const Clock& clock);
  // Closes every connection. Precondition: no command in flight.
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // One command, binary-safe: every argument is sent with its length ("SET", key, bytes).
  // Never throws for Redis or network trouble: those are Type::error / Type::unavailable.
  RedisReply command_argv(std::span<const std::string_view> args);

  template <typename... Args>
  RedisReply command(const Args&... args) {
    const std::string_view argv[] = {std::string_view(args)...};
    return command_argv(argv);
  }

  // PING; true on PONG. Fails fast while down, like every command.
  bool ping();

  CheckResult health_check() const;
  RedisPoolStats stats() const;
  const RedisOptions& options() const { return options_; }

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;
  enum class Failure { none, io, timeout };
  struct Lease;  // a borrowed connection; returned or dropped by release()

  // Acquisition: an idle connection, a permit to open one, or the reason for neither.
  RedisReply acquire(Lease& lease);
  Context connect(std::string& error);
  RedisReply run(redisContext* c, std::span<const std::string_view> args, Failure& failure);
  void release(Lease& lease, bool healthy);
  void mark_up();
  void mark_down(const std::string& reason);
  void publish_locked();
  void count(const RedisReply& reply);

  // Constant after construction.
  const RedisOptions options_;
  const Clock& clock_;
  prometheus::Counter* ok_counter_ = nullptr;
  prometheus::Counter* error_counter_ = nullptr;
  prometheus::Counter* unavailable_counter_ = nullptr;
  prometheus::Histogram* seconds_ = nullptr;
  prometheus::Gauge* active_gauge_ = nullptr;
  prometheus::Gauge* idle_gauge_ = nullptr;
  prometheus::Gauge* up_gauge_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::vector<Context> idle_;
  int active_ = 0;  // borrowed connections plus connects in progress
  enum class State { unknown, up, down } state_ = State::unknown;
  Clock::time_point down_until_{};
  std::chrono::milliseconds backoff_{0};
  bool probing_ = false;  // a caller is testing a down Redis; the others fail fast
  std::string last_error_;
  RedisPoolStats counts_;
};

}  // namespace mambogo::runtime::redis

// An asynchronous Redis client on Asio for the request path: commands issued on an I/O loop
// (an HttpServer I/O thread, see runtime/http_server.h IoLoop) go out on that loop's own
// connection and their replies come back on that same thread, so a handler asks Redis without
// a blocking executor, a lock or a thread hop.
//
//   - One connection per loop, opened on first use (connect_timeout). Commands issued while
//     earlier ones are in flight are pipelined behind them; the replies arrive in order
//     (RESP2, binary-safe), each handed to its own callback.
//   - Each command is bounded by command_timeout from the moment it is written. When the oldest
//     one passes its deadline the connection is declared hung: every command on it fails with
//     Type::unavailable, the connection is closed (a later reply could no longer be matched)
//     and Redis is marked down.
//   - Down/up exactly like RedisPool: a failed connect, a timeout or a connection lost with
//     commands in flight marks Redis *down* until now + backoff (doubling from backoff_initial
//     to backoff_max, reset by a success). While down every command fails at once with
//     Type::unavailable without touching the network. When the time has passed exactly one
//     command, on whichever loop comes first, probes with a real round trip; the others keep
//     failing fast until it succeeds. A connection the server closes while idle (a restart)
//     is just dropped, and the next command opens a new one.
//   - Error replies ("NOSCRIPT ...", "WRONGTYPE ...") are answers: Type::error, Redis is fine.
//   - A connection lost with commands written is not retried: they may have run.
//
// Callers that are not on an IoLoop (executor threads, tests) are served by one loop thread
// the client runs itself; their callbacks run there.
//
// Metrics (registry may be null): redis_async_commands_total{result=ok|error|unavailable},
// redis_async_command_seconds (histogram, commands that reached the network),
// redis_async_connections (open connections, one per loop at most), redis_async_up (1 after a
// success, 0 while down or before the first contact). Named apart from RedisPool's series so
// the two clients of one process do not overwrite each other's gauges.
// Health: health_check() as RedisPool's: UP, or DEGRADED with the last error and the time until
// the next attempt; never blocks.
//
// Ownership and threads: command() from any thread. Callbacks must not block or throw
// (exceptions are swallowed). The destructor fails every outstanding command with
// Type::unavailable ("shutting down"), on its loop while the loop runs, otherwise on the
// destroying thread; the loops' io_contexts must outlive the client (destroy it before the
// HttpServer, and never on one of those loops). No command() may run concurrently with or
// after the destructor. The clock must
// outlive the client.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/clock.h"
#include "runtime/health.h"
#include "runtime/redis/redis_pool.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace mambogo::runtime::redis {

struct AsyncRedisStats {
  bool up = false;
  int connections = 0;                // open now, over all loops
  std::uint64_t connects = 0;         // successful connects, ever
  std::uint64_t connect_failures = 0;
  std::uint64_t fast_failures = 0;    // commands refused without network while down
  std::uint64_t timeouts = 0;         // connections declared hung
};

class AsyncRedis {
 public:
  using Callback = std::function<void(RedisReply)>;

  // Uses host, port, connect_timeout, command_timeout, backoff_initial and backoff_max of
  // options (pool_size and borrow_timeout do not apply). Throws std::invalid_argument on a
  // non-positive timeout or backoff_max < backoff_initial.
  AsyncRedis(RedisOptions options, prometheus::Registry* registry, const Clock& clock);
  ~AsyncRedis();
  AsyncRedis(const AsyncRedis&) = delete;
  AsyncRedis& operator=(const AsyncRedis&) = delete;

  // One command, binary-safe; the arguments are copied before it returns. done runs exactly
  // once, on the calling loop (or the client's own), never inside command_argv().
  void command_argv(std::span<const std::string_view> args, Callback done);

  CheckResult health_check() const;
  AsyncRedisStats stats() const;
  const RedisOptions& options() const { return options_; }

  class Link;   // one connection on one loop; private to async_redis.cpp
  struct Shared;

 private:
  // Decides, before any network, whether a command may go out: nullopt if yes (probe set when
  // it is the one probing a down Redis), the fast failure otherwise.
  std::optional<RedisReply> admit(bool& probe);
  void on_result(const RedisReply& reply, bool probe, bool reached_network,
                 std::chrono::steady_clock::time_point started);
  void mark_down(const std::string& reason);
  void connected();
  void disconnected();
  void count_connect_failure();
  void count_timeout();
  Link& link_for_current_loop();

  // Constant after construction.
  const RedisOptions options_;
  const Clock& clock_;
  prometheus::Counter* ok_counter_ = nullptr;
  prometheus::Counter* error_counter_ = nullptr;
  prometheus::Counter* unavailable_counter_ = nullptr;
  prometheus::Histogram* seconds_ = nullptr;
  prometheus::Gauge* connections_gauge_ = nullptr;
  prometheus::Gauge* up_gauge_ = nullptr;

  // Read without the lock on the request path; written under mutex_.
  std::atomic<bool> down_{false};
  std::atomic<bool> state_up_{false};
  // Guarded by mutex_.
  mutable std::mutex mutex_;
  enum class State { unknown, up, down } state_ = State::unknown;
  Clock::time_point down_until_{};
  std::chrono::milliseconds backoff_{0};
  bool probing_ = false;
  std::string last_error_;
  AsyncRedisStats counts_;

  std::unique_ptr<Shared> shared_;  // the links per loop and the client's own loop thread
};

}  // namespace mambogo::runtime::redis

// The gateway's distributed rate limiter: Spring Cloud Gateway's RedisRateLimiter and its
// request_rate_limiter.lua, same keys, same arithmetic (../shared/anchors/resilience.md §4).
//
// A token bucket per key `id` (the user's `sub`, or the client address for anonymous calls):
//   keys      request_rate_limiter.{id}.tokens and request_rate_limiter.{id}.timestamp
//             (the braces are a Redis Cluster hash tag: both keys live on one shard)
//   script    now = Redis TIME (whole seconds); fill_time = burst / rate;
//             ttl = floor(2 * fill_time); filled = min(burst, last_tokens + (now - last) * rate);
//             allowed when filled >= requested, then tokens = filled - requested;
//             both keys SETEX ttl; returns {allowed, tokens}.
//   transport EVALSHA of the script's SHA; on NOSCRIPT (a restarted or flushed Redis) the
//             script is loaded with SCRIPT LOAD and the call repeated once. Two transports share
//             the arguments, this SHA handling and the reading of the answer, so they decide
//             alike: allow() on the blocking RedisPool, and allow_async() on the pipelined
//             AsyncRedis, which asks from the calling I/O thread and answers there.
// burst_capacity 0 denies everything without asking Redis (as Spring's does).
//
// Prefetch (allow_async on an I/O loop, `prefetch` > 0; the gateway's default 50 ms,
// GATEWAY_RATELIMIT_PREFETCH): a busy bucket's run asks for the decisions waiting on it AND for
// the ones its recent pace will ask within `prefetch` (at least one, at most 1% of the burst
// capacity for the whole limiter: shared out among the I/O loops using it); the extra tokens
// granted are kept on the loop and hand out the next decisions
// there without Redis, each told the Remaining Spring's script would have told it at that run.
// Tokens not used within 2 x `prefetch` lapse (they stay spent). A bucket smaller than 100
// requests' worth is never taken ahead: its decisions are exact, one run started after each ask.
// The limit is never exceeded: every decision, prefetched or not, spends a token the script
// took from Redis; what prefetch costs is precision the other way (a lapsed prefetch refuses at
// most 1% of the burst that Spring's own calls would have allowed, and a decision may use a
// token taken up to 2 x `prefetch` before it was asked). What it buys: a user at thousands of
// requests a second costs Redis one run per `prefetch` instead of one per loop turn.
//
// Redis unavailable (or answering an error): the failure is counted
// (gateway_ratelimit_redis_failures_total), logged (at most once per second), and decided by the
// failure mode:
//   open   (the default, Spring's behaviour) the request passes with Remaining -1;
//   closed the request is refused: the gateway answers 503 `rate_limiter_unavailable` with
//          Retry-After: 1. 503 and not 429 because the client did nothing wrong and may retry
//          (Envoy's failure_mode_deny answers 500 for the same reason: not the client's fault).
// health_check() reports the mode and the last outcome for /health (DEGRADED while failing).
//
// Headers for the client: X-RateLimit-Remaining, -Replenish-Rate, -Burst-Capacity,
// -Requested-Tokens (response_headers()).
//
// Ownership: the pool and the async client (either may be null: then every call on that
// transport is a Redis failure) and the logger must outlive the limiter. Thread-safety: any
// thread. allow() blocks on Redis (bounded by the pool's command timeout): call it from a
// blocking executor, never an I/O thread. allow_async() never blocks: call it from an I/O loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/route_table.h"
#include "runtime/health.h"
#include "runtime/http_message.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace mambogo::runtime {
class IoLoop;
class Logger;
namespace redis {
class AsyncRedis;
class RedisPool;
struct RedisReply;
}
}  // namespace mambogo::runtime

namespace mambogo::gateway {

enum class FailureMode { open, closed };
std::string_view to_string(FailureMode m);

struct RateLimitDecision {
  bool allowed = true;
  long long tokens_left = -1;  // -1 when Redis could not be asked
  bool redis_failed = false;   // Redis was needed and did not answer properly
};

// The Lua script, byte for byte what is sent to Redis.
extern const char* const kRequestRateLimiterScript;

class RedisRateLimiter {
 public:
  RedisRateLimiter(runtime::redis::RedisPool* pool, FailureMode mode, prometheus::Registry* registry,
                   runtime::Logger& logger, runtime::redis::AsyncRedis* async = nullptr,
                   std::chrono::milliseconds prefetch = std::chrono::milliseconds(0));

  RateLimitDecision allow(std::string_view id, const RateLimitSpec& spec);
  using Decided = std::function<void(const RateLimitDecision&)>;
  // The same decision through the async client; done runs once, on the calling loop (inside
  // this call when no Redis is needed: burst 0, or no async client). On an I/O loop, the
  // decisions asked for one bucket (same id and spec) during one turn of the loop go to Redis as
  // one EVALSHA with a count (see kRequestRateLimiterScript), sent behind the handlers already
  // queued, so no request waits longer and a busy user costs Redis one script run per turn
  // instead of one per request; each still gets its own decision and X-RateLimit-Remaining.
  // With prefetch (above), a busy bucket's decisions are mostly answered inside this call.
  void allow_async(std::string_view id, const RateLimitSpec& spec, Decided done);
  bool has_async() const { return async_ != nullptr; }

  static void add_response_headers(const RateLimitDecision& d, const RateLimitSpec& spec,
                                   std::vector<runtime::Header>& headers);
  static std::string tokens_key(std::string_view id);
  static std::string timestamp_key(std::string_view id);

  FailureMode mode() const { return mode_; }
  std::chrono::milliseconds prefetch() const { return prefetch_; }
  runtime::CheckResult health_check() const;
  std::uint64_t redis_failures() const { return failures_.load(); }

 private:
  struct Call;       // one bucket: the EVALSHA arguments
  struct AsyncCall;  // ... the decisions waiting for it, and where its exchange is
  struct Bucket;     // one bucket on one I/O loop: gathering, in flight, tokens taken ahead
  struct LoopQueue;  // the buckets one I/O loop asks about
  RateLimitDecision failed(const std::string& reason);
  RateLimitDecision decide(const runtime::redis::RedisReply& reply);
  RateLimitDecision refused_without_redis();
  static bool well_formed(const runtime::redis::RedisReply& reply);
  std::string_view known_sha() const;
  void learn_sha(const std::string& sha);
  LoopQueue& loop_queue();
  void schedule_flush(runtime::IoLoop& loop, LoopQueue& queue);
  void send_run(const std::shared_ptr<Bucket>& bucket, std::chrono::steady_clock::time_point now);
  long long ahead_for(const Bucket& bucket, std::chrono::steady_clock::time_point now) const;
  bool take_prefetched(Bucket& bucket, const Decided& done, std::chrono::steady_clock::time_point now);
  void sweep(LoopQueue& queue, std::chrono::steady_clock::time_point now) const;
  void run_finished(AsyncCall& call);
  void send_async(std::shared_ptr<AsyncCall> call);
  void evalsha_async(std::shared_ptr<AsyncCall> call);
  void load_script_async(std::shared_ptr<AsyncCall> call);
  void answer(AsyncCall& call, const runtime::redis::RedisReply& reply);

  // Constant after construction.
  runtime::redis::RedisPool* const pool_;
  runtime::redis::AsyncRedis* const async_;
  const FailureMode mode_;
  runtime::Logger& logger_;
  const std::chrono::milliseconds prefetch_;  // 0: every decision from a run started after it
  const std::uint64_t serial_;  // names this limiter's per-loop queues (never reused)
  std::atomic<int> loops_{0};   // I/O loops with a queue of this limiter (share the prefetch cap)
  prometheus::Counter* failure_counter_ = nullptr;
  prometheus::Counter* allowed_counter_ = nullptr;
  prometheus::Counter* denied_counter_ = nullptr;
  prometheus::Counter* prefetched_counter_ = nullptr;

  std::atomic<std::uint64_t> failures_{0};
  std::atomic<bool> last_failed_{false};
  // The script's SHA1, from the first SCRIPT LOAD. It never changes (it is a function of the
  // script), so it is written once under mutex_ and read without a lock after sha_known_.
  std::string sha_;
  std::atomic<bool> sha_known_{false};
  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::string last_error_;
  std::chrono::steady_clock::time_point last_logged_{};
};

}  // namespace mambogo::gateway

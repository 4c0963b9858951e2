#include "gateway/redis_rate_limiter.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "runtime/http_server.h"  // IoLoop
#include "runtime/logging.h"
#include "runtime/redis/async_redis.h"
#include "runtime/redis/redis_pool.h"

namespace mambogo::gateway {

using runtime::redis::RedisReply;
using SteadyClock = std::chrono::steady_clock;

namespace {
std::atomic<std::uint64_t> next_serial{1};
// Prefetch takes at most this share of a bucket's burst capacity ahead (1/100: 1%).
constexpr long long kPrefetchBurstShare = 100;
}  // namespace

// Spring Cloud Gateway's request_rate_limiter.lua, with `now` always from Redis TIME, and one
// extension: ARGV[4] `count` asks `count` decisions of `requested` tokens at once and answers
// how many were allowed. Absent (Spring's own call), it is 1 and the answer is Spring's
// {0|1, tokens}. `count` decisions at once are exactly `count` calls in a row: all see the same
// whole second of TIME, so the later ones refill nothing and take from what the earlier left.
const char* const kRequestRateLimiterScript = R"lua(redis.replicate_commands()

local tokens_key = KEYS[1]
local timestamp_key = KEYS[2]

local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
local requested = tonumber(ARGV[3])
local count = tonumber(ARGV[4]) or 1

local fill_time = capacity/rate
local ttl = math.floor(fill_time*2)

local last_tokens = tonumber(redis.call("get", tokens_key))
if last_tokens == nil then
  last_tokens = capacity
end

local last_refreshed = tonumber(redis.call("get", timestamp_key))
if last_refreshed == nil then
  last_refreshed = 0
end

local delta = math.max(0, now-last_refreshed)
local filled_tokens = math.min(capacity, last_tokens+(delta*rate))
local allowed_num = count
if requested > 0 then
  allowed_num = math.min(count, math.floor(filled_tokens/requested))
end
local new_tokens = filled_tokens - allowed_num*requested

if ttl > 0 then
  redis.call("setex", tokens_key, ttl, new_tokens)
  redis.call("setex", timestamp_key, ttl, now)
end

return { allowed_num, new_tokens }
)lua";

std::string_view to_string(FailureMode m) { return m == FailureMode::open ? "open" : "closed"; }

RedisRateLimiter::RedisRateLimiter(runtime::redis::RedisPool* pool, FailureMode mode,
                                   prometheus::Registry* registry, runtime::Logger& logger,
                                   runtime::redis::AsyncRedis* async, std::chrono::milliseconds prefetch)
    : pool_(pool),
      async_(async),
      mode_(mode),
      logger_(logger),
      prefetch_(std::max(prefetch, std::chrono::milliseconds(0))),
      serial_(next_serial++) {
  if (!registry) return;
  failure_counter_ = &prometheus::BuildCounter()
                          .Name("gateway_ratelimit_redis_failures_total")
                          .Help("Rate-limit decisions Redis could not make (then decided by the failure mode)")
                          .Register(*registry)
                          .Add({});
  auto& decisions = prometheus::BuildCounter()
                        .Name("gateway_ratelimit_requests_total")
                        .Help("Rate-limit decisions")
                        .Register(*registry);
  allowed_counter_ = &decisions.Add({{"result", "allowed"}});
  denied_counter_ = &decisions.Add({{"result", "denied"}});
  prefetched_counter_ = &prometheus::BuildCounter()
                             .Name("gateway_ratelimit_prefetched_total")
                             .Help("Decisions allowed on the I/O loop from tokens a script run took ahead "
                                   "(GATEWAY_RATELIMIT_PREFETCH), without asking Redis")
                             .Register(*registry)
                             .Add({});
}

std::string RedisRateLimiter::tokens_key(std::string_view id) {
  return "request_rate_limiter.{" + std::string(id) + "}.tokens";
}
std::string RedisRateLimiter::timestamp_key(std::string_view id) {
  return "request_rate_limiter.{" + std::string(id) + "}.timestamp";
}

// The arguments of one EVALSHA, built once per decision.
struct RedisRateLimiter::Call {
  Call(std::string_view id, const RateLimitSpec& spec)
      : id(id),
        tokens(tokens_key(id)),
        timestamp(timestamp_key(id)),
        rate(std::to_string(spec.replenish_rate)),
        burst(std::to_string(spec.burst_capacity)),
        requested(std::to_string(spec.requested_tokens)) {}
  std::array<std::string_view, 8> evalsha(std::string_view sha) const {
    return {"EVALSHA", sha, "2", tokens, timestamp, rate, burst, requested};
  }
  std::string_view tokens_id() const { return id; }
  std::string id, tokens, timestamp, rate, burst, requested;
};

// One bucket (id and spec) as one I/O loop sees it.
//
// At most one run of the script per bucket is on its way from a loop: decisions asked
// meanwhile gather behind it and go as the next run when its answer is in (group commit). Under
// load that makes the runs as large as a round trip allows instead of one per loop turn;
// Redis's CPU is spent per run, not per decision. Without prefetch each decision comes from a
// run that started after it was asked, so none is decided on stale tokens; with it (header),
// the tokens a run took ahead answer the next asks until they run out or lapse.
struct RedisRateLimiter::Bucket {
  Bucket(std::string_view id, const RateLimitSpec& spec, SteadyClock::time_point now)
      : id(id), spec(spec), window_start(now) {}
  std::string id;
  RateLimitSpec spec;
  std::shared_ptr<AsyncCall> gathering;  // asked since the last run was sent
  bool in_flight = false;
  // Taken ahead by the last run: decisions still to hand out, until when, and Redis's tokens
  // after that run (what Remaining counts down to).
  long long prefetched = 0;
  SteadyClock::time_point prefetched_until{};
  long long left_after_run = 0;
  // Demand: decisions asked since window_start (when the last run was sent).
  long long asked = 0;
  SteadyClock::time_point window_start;
};

// The buckets one I/O loop asks about. Thread-local and keyed by the limiter's serial, so the
// request path takes no lock and a later limiter never finds an earlier one's queue (an entry
// outliving its limiter is a few bytes per thread). A bucket stays while it gathers, has a run
// out, or holds prefetched tokens; idle ones are swept at flushes.
struct RedisRateLimiter::LoopQueue {
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::shared_ptr<Bucket> find_or_add(std::string_view id, const RateLimitSpec& spec, SteadyClock::time_point now);

  // By id; one id has more than one bucket only while routes with different specs share it.
  std::unordered_map<std::string, std::vector<std::shared_ptr<Bucket>>, IdHash, std::equal_to<>> buckets;
  std::vector<std::shared_ptr<Bucket>> to_send;  // gathering with no run out: the next flush sends them
  bool flush_posted = false;
  SteadyClock::time_point next_sweep{};
};

// One EVALSHA on the pipelined transport: the decisions of one bucket gathered on an I/O loop,
// in the order they were asked, and `ahead` more to take for the next asks (prefetch).
struct RedisRateLimiter::AsyncCall {
  AsyncCall(std::string_view id, const RateLimitSpec& spec) : call(id, spec), spec(spec) {}
  std::array<std::string_view, 9> evalsha(std::string_view sha) {
    count_arg = std::to_string(static_cast<long long>(waiting.size()) + ahead);
    const auto a = call.evalsha(sha);
    return {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], count_arg};
  }
  Call call;
  RateLimitSpec spec;
  std::vector<Decided> waiting;
  long long ahead = 0;
  std::shared_ptr<Bucket> bucket;  // null when asked off a loop
  std::string count_arg;
  bool reloaded = false;  // SCRIPT LOAD sent after a NOSCRIPT: the next NOSCRIPT is final
};

namespace {
thread_local std::vector<std::pair<std::uint64_t, std::shared_ptr<void>>> t_loop_queues;

bool same_bucket(const RateLimitSpec& a, const RateLimitSpec& b) {
  return a.replenish_rate == b.replenish_rate && a.burst_capacity == b.burst_capacity &&
         a.requested_tokens == b.requested_tokens;
}
}  // namespace

std::shared_ptr<RedisRateLimiter::Bucket> RedisRateLimiter::LoopQueue::find_or_add(std::string_view id,
                                                                                   const RateLimitSpec& spec,
                                                                                   SteadyClock::time_point now) {
  auto at = buckets.find(id);
  if (at == buckets.end()) at = buckets.emplace(std::string(id), std::vector<std::shared_ptr<Bucket>>{}).first;
  for (auto& b : at->second)
    if (same_bucket(b->spec, spec)) return b;
  return at->second.emplace_back(std::make_shared<Bucket>(id, spec, now));
}

namespace {
bool is_noscript(const RedisReply& r) { return r.type == RedisReply::Type::error && r.str.starts_with("NOSCRIPT"); }
}  // namespace

std::string_view RedisRateLimiter::known_sha() const {
  return sha_known_.load(std::memory_order_acquire) ? std::string_view(sha_) : std::string_view();
}

void RedisRateLimiter::learn_sha(const std::string& sha) {
  std::lock_guard lock(mutex_);
  if (sha_known_.load(std::memory_order_relaxed)) return;  // the same SHA: it depends only on the script
  sha_ = sha;
  sha_known_.store(true, std::memory_order_release);
}

RateLimitDecision RedisRateLimiter::failed(const std::string& reason) {
  failures_.fetch_add(1);
  last_failed_.store(true);
  if (failure_counter_) failure_counter_->Increment();
  bool log_now = false;
  {
    std::lock_guard lock(mutex_);
    last_error_ = reason;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_logged_ >= std::chrono::seconds(1)) {
      last_logged_ = now;
      log_now = true;
    }
  }
  if (log_now)
    logger_.warn("rate limiter: Redis failed", {{"error", reason},
                                                 {"failure_mode", std::string(to_string(mode_))},
                                                 {"failures_total", failures_.load()}});
  RateLimitDecision d;
  d.redis_failed = true;
  d.allowed = mode_ == FailureMode::open;
  d.tokens_left = -1;
  return d;
}

RateLimitDecision RedisRateLimiter::refused_without_redis() {
  if (denied_counter_) denied_counter_->Increment();
  return RateLimitDecision{false, 0, false};
}

RateLimitDecision RedisRateLimiter::allow(std::string_view id, const RateLimitSpec& spec) {
  if (spec.burst_capacity == 0) return refused_without_redis();
  if (!pool_) return failed("no Redis configured (REDIS_URL)");
  const Call call(id, spec);
  RedisReply reply;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1 || known_sha().empty()) {  // unknown yet, or the server lost it (NOSCRIPT)
      RedisReply loaded = pool_->command("SCRIPT", "LOAD", kRequestRateLimiterScript);
      if (loaded.type != RedisReply::Type::string) return failed("SCRIPT LOAD failed");
      learn_sha(loaded.str);
    }
    const auto argv = call.evalsha(known_sha());
    reply = pool_->command_argv(argv);
    if (!is_noscript(reply)) break;
  }
  return decide(reply);
}

void RedisRateLimiter::allow_async(std::string_view id, const RateLimitSpec& spec, Decided done) {
  if (spec.burst_capacity == 0) return done(refused_without_redis());
  if (!async_) return done(failed("no Redis configured (REDIS_URL)"));
  runtime::IoLoop* loop = runtime::IoLoop::current();
  if (!loop) {  // no loop turn to gather in: ask alone
    auto call = std::make_shared<AsyncCall>(id, spec);
    call->waiting.push_back(std::move(done));
    return send_async(std::move(call));
  }
  LoopQueue& queue = loop_queue();
  const auto now = SteadyClock::now();
  std::shared_ptr<Bucket> bucket = queue.find_or_add(id, spec, now);
  ++bucket->asked;
  if (take_prefetched(*bucket, done, now)) return;
  if (!bucket->gathering) {
    bucket->gathering = std::make_shared<AsyncCall>(id, spec);
    if (!bucket->in_flight) queue.to_send.push_back(bucket);
  }
  bucket->gathering->waiting.push_back(std::move(done));
  if (!bucket->in_flight) schedule_flush(*loop, queue);
}

// A decision from the tokens the bucket's last run took ahead, if any are left and fresh.
bool RedisRateLimiter::take_prefetched(Bucket& bucket, const Decided& done, SteadyClock::time_point now) {
  if (bucket.prefetched <= 0) return false;
  if (now >= bucket.prefetched_until) {  // lapsed: they stay spent
    bucket.prefetched = 0;
    return false;
  }
  --bucket.prefetched;
  if (allowed_counter_) allowed_counter_->Increment();
  if (prefetched_counter_) prefetched_counter_->Increment();
  done(RateLimitDecision{true, bucket.left_after_run + bucket.prefetched * bucket.spec.requested_tokens, false});
  return true;
}

// Behind the handlers this turn of the loop has already queued: the requests read in the same
// wake-up join the run, and none waits for another round trip.
void RedisRateLimiter::schedule_flush(runtime::IoLoop& loop, LoopQueue& queue) {
  if (queue.flush_posted) return;
  queue.flush_posted = true;
  loop.post([this, &queue] {
    queue.flush_posted = false;
    const auto now = SteadyClock::now();
    const auto sending = std::move(queue.to_send);
    queue.to_send.clear();
    for (const auto& bucket : sending)
      if (bucket->gathering && !bucket->in_flight) send_run(bucket, now);
    sweep(queue, now);
  });
}

void RedisRateLimiter::send_run(const std::shared_ptr<Bucket>& bucket, SteadyClock::time_point now) {
  auto call = std::move(bucket->gathering);
  call->ahead = ahead_for(*bucket, now);
  call->bucket = bucket;
  bucket->in_flight = true;
  bucket->asked = 0;
  bucket->window_start = now;
  send_async(std::move(call));
}

// How many decisions a run takes ahead for the bucket: its pace since the last run times the
// prefetch window, at least one, at most 1% of the burst (shared out among the I/O loops using
// the limiter); none without prefetch or for a small bucket. The pace is measured over at least an eighth of the window, so a fresh bucket's first
// asks count as a modest pace (eight times their number ahead) and a busy one reaches its real
// pace within a few runs; taking one window's worth, used in about one window, lapsing after two.
long long RedisRateLimiter::ahead_for(const Bucket& bucket, SteadyClock::time_point now) const {
  const long long per = bucket.spec.requested_tokens;
  if (prefetch_.count() <= 0 || per < 1) return 0;
  const long long loops = std::max(1, loops_.load(std::memory_order_relaxed));
  const long long cap = bucket.spec.burst_capacity / kPrefetchBurstShare / loops / per;
  if (cap <= 0) return 0;
  using std::chrono::microseconds;
  const auto horizon = std::chrono::duration_cast<microseconds>(prefetch_);
  const auto window = std::max({std::chrono::duration_cast<microseconds>(now - bucket.window_start),
                                horizon / 8, microseconds(1)});
  const long long paced = (bucket.asked * horizon.count() + window.count() - 1) / window.count();
  return std::clamp<long long>(paced, 1, cap);
}

// Drops the buckets with nothing to do (no asks gathering, no run out, no fresh prefetched
// tokens); with prefetch on, at most once per window (an idle bucket lives that long anyway).
void RedisRateLimiter::sweep(LoopQueue& queue, SteadyClock::time_point now) const {
  if (now < queue.next_sweep) return;
  queue.next_sweep = now + prefetch_;
  for (auto at = queue.buckets.begin(); at != queue.buckets.end();) {
    std::erase_if(at->second, [now](const std::shared_ptr<Bucket>& b) {
      return !b->in_flight && !b->gathering && (b->prefetched <= 0 || now >= b->prefetched_until);
    });
    at = at->second.empty() ? queue.buckets.erase(at) : std::next(at);
  }
}

// The run for call's bucket is over (answered or failed): what gathered behind it takes from
// the tokens the run took ahead, and the rest goes as the next run.
void RedisRateLimiter::run_finished(AsyncCall& call) {
  auto bucket = std::move(call.bucket);
  if (!bucket) return;
  bucket->in_flight = false;
  if (!bucket->gathering) return;
  if (bucket->prefetched > 0) {
    auto gathered = std::move(bucket->gathering);  // (a decision handed out may ask again)
    std::vector<Decided> rest;
    const auto now = SteadyClock::now();
    for (auto& done : gathered->waiting)
      if (!take_prefetched(*bucket, done, now)) rest.push_back(std::move(done));
    if (rest.empty() && !bucket->gathering) return;
    if (bucket->gathering)
      rest.insert(rest.end(), std::make_move_iterator(bucket->gathering->waiting.begin()),
                  std::make_move_iterator(bucket->gathering->waiting.end()));
    gathered->waiting = std::move(rest);
    bucket->gathering = std::move(gathered);
  }
  // A bucket stays in its loop's queue while its run is out, and the answer comes on that loop.
  if (runtime::IoLoop* loop = runtime::IoLoop::current()) {
    LoopQueue& queue = loop_queue();
    queue.to_send.push_back(bucket);
    return schedule_flush(*loop, queue);
  }
  send_async(std::move(bucket->gathering));  // (AsyncRedis broke that promise: do not strand them)
}

RedisRateLimiter::LoopQueue& RedisRateLimiter::loop_queue() {
  for (auto& [owner, queue] : t_loop_queues)
    if (owner == serial_) return *static_cast<LoopQueue*>(queue.get());
  auto queue = std::make_shared<LoopQueue>();
  t_loop_queues.emplace_back(serial_, queue);
  loops_.fetch_add(1, std::memory_order_relaxed);
  return *queue;
}

void RedisRateLimiter::send_async(std::shared_ptr<AsyncCall> call) {
  if (known_sha().empty()) return load_script_async(std::move(call));
  evalsha_async(std::move(call));
}

void RedisRateLimiter::evalsha_async(std::shared_ptr<AsyncCall> call) {
  const auto argv = call->evalsha(known_sha());
  async_->command_argv(argv, [this, call](RedisReply reply) {
    if (is_noscript(reply) && !call->reloaded) return load_script_async(call);
    answer(*call, reply);  // first: the decisions asked before the ones gathered behind the run
    run_finished(*call);
  });
}

void RedisRateLimiter::load_script_async(std::shared_ptr<AsyncCall> call) {
  const std::string_view argv[] = {"SCRIPT", "LOAD", kRequestRateLimiterScript};
  async_->command_argv(argv, [this, call](RedisReply loaded) {
    if (loaded.type != RedisReply::Type::string) {
      for (auto& done : call->waiting) done(failed("SCRIPT LOAD failed"));
      run_finished(*call);
      return;
    }
    learn_sha(loaded.str);
    call->reloaded = true;
    evalsha_async(call);
  });
}

// Hands each waiting request its decision: the first `allowed` of them pass, each seeing the
// tokens the later ones of the batch (and the ones taken ahead) have not yet taken; the rest are
// denied with what is left. The tokens granted beyond the waiting ones are kept on the bucket.
void RedisRateLimiter::answer(AsyncCall& call, const RedisReply& reply) {
  const auto n = static_cast<long long>(call.waiting.size());
  if (n == 1 && call.ahead == 0) return call.waiting.front()(decide(reply));
  if (!well_formed(reply)) {
    for (auto& done : call.waiting) done(decide(reply));
    return;
  }
  const long long granted = std::clamp<long long>(reply.elements[0].integer, 0, n + call.ahead);
  const long long allowed = std::min(granted, n);
  const long long ahead = granted - allowed;
  const long long left = reply.elements[1].integer;
  const long long per = call.spec.requested_tokens;
  if (last_failed_.load(std::memory_order_relaxed)) last_failed_.store(false);
  if (allowed_counter_) allowed_counter_->Increment(double(allowed));
  if (denied_counter_) denied_counter_->Increment(double(n - allowed));
  for (long long i = 0; i < n; ++i) {
    RateLimitDecision d;
    d.allowed = i < allowed;
    d.tokens_left = d.allowed ? left + (ahead + allowed - 1 - i) * per : left;
    call.waiting[std::size_t(i)](d);
  }
  // After the decisions above: asks they made in turn gather behind them (run_finished).
  if (call.bucket) {
    call.bucket->prefetched = ahead;
    call.bucket->left_after_run = left;
    call.bucket->prefetched_until = SteadyClock::now() + 2 * prefetch_;
  }
}

bool RedisRateLimiter::well_formed(const RedisReply& reply) {
  return reply.type == RedisReply::Type::array && reply.elements.size() == 2 &&
         reply.elements[0].type == RedisReply::Type::integer &&
         reply.elements[1].type == RedisReply::Type::integer;
}

// The script's answer {allowed, tokens_left}, or a failure decided by the mode.
RateLimitDecision RedisRateLimiter::decide(const RedisReply& reply) {
  if (!well_formed(reply))
    return failed(reply.is_unavailable() || reply.type == RedisReply::Type::error
                      ? reply.str
                      : std::string("unexpected reply of type ") + runtime::redis::to_string(reply.type));
  if (last_failed_.load(std::memory_order_relaxed)) last_failed_.store(false);
  RateLimitDecision d;
  d.allowed = reply.elements[0].integer == 1;
  d.tokens_left = reply.elements[1].integer;
  if (auto* c = d.allowed ? allowed_counter_ : denied_counter_) c->Increment();
  return d;
}

void RedisRateLimiter::add_response_headers(const RateLimitDecision& d, const RateLimitSpec& spec,
                                            std::vector<runtime::Header>& headers) {
  headers.push_back({"X-RateLimit-Remaining", std::to_string(d.tokens_left)});
  headers.push_back({"X-RateLimit-Replenish-Rate", std::to_string(spec.replenish_rate)});
  headers.push_back({"X-RateLimit-Burst-Capacity", std::to_string(spec.burst_capacity)});
  headers.push_back({"X-RateLimit-Requested-Tokens", std::to_string(spec.requested_tokens)});
}

runtime::CheckResult RedisRateLimiter::health_check() const {
  runtime::CheckResult r;
  r.details["failureMode"] = std::string(to_string(mode_));
  r.details["redisFailures"] = failures_.load();
  r.details["transport"] = async_ ? "pipelined" : "pool";
  r.details["prefetchMs"] = prefetch_.count();
  if (async_) r.details["pipelinedRedis"] = async_->health_check().details;
  if (last_failed_.load()) {
    r.status = runtime::HealthStatus::degraded;
    std::lock_guard lock(mutex_);
    r.details["lastError"] = last_error_;
    r.details["effect"] = mode_ == FailureMode::open ? "requests pass unlimited (fail-open)"
                                                     : "requests refused with 503 (fail-closed)";
  }
  return r;
}

}  // namespace mambogo::gateway

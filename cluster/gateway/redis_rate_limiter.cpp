#include "gateway/redis_rate_limiter.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "runtime/logging.h"
#include "runtime/redis/redis_pool.h"

namespace mambogo::gateway {

using runtime::redis::RedisReply;

// Spring Cloud Gateway's request_rate_limiter.lua, with `now` always from Redis TIME.
const char* const kRequestRateLimiterScript = R"lua(redis.replicate_commands()

local tokens_key = KEYS[1]
local timestamp_key = KEYS[2]

local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
local requested = tonumber(ARGV[3])

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
local allowed = filled_tokens >= requested
local new_tokens = filled_tokens
local allowed_num = 0
if allowed then
  new_tokens = filled_tokens - requested
  allowed_num = 1
end

if ttl > 0 then
  redis.call("setex", tokens_key, ttl, new_tokens)
  redis.call("setex", timestamp_key, ttl, now)
end

return { allowed_num, new_tokens }
)lua";

std::string_view to_string(FailureMode m) { return m == FailureMode::open ? "open" : "closed"; }

RedisRateLimiter::RedisRateLimiter(runtime::redis::RedisPool* pool, FailureMode mode,
                                   prometheus::Registry* registry, runtime::Logger& logger)
    : pool_(pool), mode_(mode), logger_(logger) {
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
}

std::string RedisRateLimiter::tokens_key(std::string_view id) {
  return "request_rate_limiter.{" + std::string(id) + "}.tokens";
}
std::string RedisRateLimiter::timestamp_key(std::string_view id) {
  return "request_rate_limiter.{" + std::string(id) + "}.timestamp";
}

std::string RedisRateLimiter::script_sha() {
  {
    std::lock_guard lock(mutex_);
    if (!sha_.empty()) return sha_;
  }
  RedisReply loaded = pool_->command("SCRIPT", "LOAD", kRequestRateLimiterScript);
  if (loaded.type != RedisReply::Type::string) return {};
  std::lock_guard lock(mutex_);
  sha_ = loaded.str;
  return sha_;
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

RateLimitDecision RedisRateLimiter::allow(std::string_view id, const RateLimitSpec& spec) {
  if (spec.burst_capacity == 0) {
    if (denied_counter_) denied_counter_->Increment();
    return RateLimitDecision{false, 0, false};
  }
  if (!pool_) return failed("no Redis configured (REDIS_URL)");
  const std::string keys[2] = {tokens_key(id), timestamp_key(id)};
  const std::string rate = std::to_string(spec.replenish_rate);
  const std::string burst = std::to_string(spec.burst_capacity);
  const std::string requested = std::to_string(spec.requested_tokens);
  RedisReply reply;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string sha = script_sha();
    if (sha.empty()) return failed("SCRIPT LOAD failed");
    reply = pool_->command("EVALSHA", sha, "2", keys[0], keys[1], rate, burst, requested);
    if (reply.type == RedisReply::Type::error && reply.str.starts_with("NOSCRIPT")) {
      std::lock_guard lock(mutex_);
      sha_.clear();  // flushed or restarted: load again and repeat once
      continue;
    }
    break;
  }
  if (reply.type != RedisReply::Type::array || reply.elements.size() != 2 ||
      reply.elements[0].type != RedisReply::Type::integer)
    return failed(reply.is_unavailable() || reply.type == RedisReply::Type::error
                      ? reply.str
                      : std::string("unexpected reply of type ") + runtime::redis::to_string(reply.type));
  last_failed_.store(false);
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

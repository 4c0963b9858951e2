#include "runtime/resilience/time_limiter.h"

#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace mambogo::runtime {

TimeLimiter::TimeLimiter(TimeLimiterConfig config, const Clock& clock,
                         prometheus::Registry* registry)
    : config_(std::move(config)), clock_(clock) {
  if (config_.timeout_duration.count() < 0)
    throw std::invalid_argument("time limiter '" + config_.name + "': timeout_duration must be >= 0");
  if (!registry) return;
  auto& calls = prometheus::BuildCounter()
                    .Name("resilience4j_timelimiter_calls_total")
                    .Help("Calls through the time limiter, by outcome")
                    .Register(*registry);
  const char* kinds[] = {"successful", "failed", "timeout"};
  for (int i = 0; i < 3; ++i) counters_[i] = &calls.Add({{"name", config_.name}, {"kind", kinds[i]}});
}

std::chrono::nanoseconds TimeLimiter::remaining(Clock::time_point started) const {
  const auto left = deadline(started) - clock_.now();
  return left.count() > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                          : std::chrono::nanoseconds{0};
}

TimeLimiter::Outcome TimeLimiter::on_complete(Clock::time_point started, bool succeeded) {
  const Outcome outcome = exceeded(started) ? Outcome::timeout
                          : succeeded       ? Outcome::successful
                                            : Outcome::failed;
  count(outcome);
  return outcome;
}

void TimeLimiter::on_timeout() { count(Outcome::timeout); }

void TimeLimiter::count(Outcome outcome) {
  const auto i = static_cast<int>(outcome);
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  if (counters_[i]) counters_[i]->Increment();
}

TimeLimiterStats TimeLimiter::stats() const {
  return {counts_[0].load(), counts_[1].load(), counts_[2].load()};
}

}  // namespace mambogo::runtime

// How long to wait before the next attempt: Resilience4j's IntervalFunction, used by Retry
// (wait between attempts) and by CircuitBreaker (wait in OPEN, which may grow with every
// re-opening). A value type: copy it freely.
//
//   fixed(i)                          i, i, i, ...            (Resilience4j's default: 500 ms)
//   randomized(i, f)                  uniform in [i(1-f), i(1+f))
//   exponential(i, m[, max])          i, i*m, i*m*m, ...      each step truncated to whole ms,
//                                                             then capped at max
//   exponential_random(i, m, f[, max]) the exponential value, randomized as above, then capped
//
// Defaults are Resilience4j's: multiplier 1.5, randomization factor 0.5. The cap is applied
// after randomization, as Resilience4j's ofExponentialRandomBackoff does, so once the curve is
// well past the cap every wait is exactly the cap.
//
// Randomness is drawn from the generator the caller passes (one draw per randomized interval,
// none otherwise), computed as (rng() >> 11) * 2^-53 so a seeded std::mt19937_64 gives the
// same waits on every platform.
//
// Thread-safety: const member functions only; the generator belongs to the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace mambogo::runtime {

class IntervalFunction {
 public:
  using milliseconds = std::chrono::milliseconds;
  static constexpr double kDefaultMultiplier = 1.5;
  static constexpr double kDefaultRandomizationFactor = 0.5;

  // The factories throw std::invalid_argument when an interval is below 1 ms, a multiplier is
  // not positive, or a randomization factor is outside [0, 1].
  static IntervalFunction fixed(milliseconds interval);
  static IntervalFunction randomized(milliseconds interval,
                                     double randomization_factor = kDefaultRandomizationFactor);
  static IntervalFunction exponential(milliseconds initial, double multiplier = kDefaultMultiplier,
                                      std::optional<milliseconds> max_interval = std::nullopt);
  static IntervalFunction exponential_random(
      milliseconds initial, double multiplier = kDefaultMultiplier,
      double randomization_factor = kDefaultRandomizationFactor,
      std::optional<milliseconds> max_interval = std::nullopt);

  // fixed(500 ms).
  IntervalFunction();

  // The wait after the attempt-th failure (attempt >= 1, else std::invalid_argument).
  milliseconds operator()(int attempt, std::mt19937_64& rng) const;
  // The same without jitter: the centre of the range operator() draws from, capped.
  milliseconds base(int attempt) const;

  bool is_randomized() const { return randomization_factor_ > 0; }
  double randomization_factor() const { return randomization_factor_; }
  double multiplier() const { return multiplier_; }
  milliseconds initial() const { return initial_; }
  std::optional<milliseconds> max_interval() const { return max_interval_; }

 private:
  IntervalFunction(milliseconds initial, double multiplier, double randomization_factor,
                   std::optional<milliseconds> max_interval);
  std::int64_t uncapped(int attempt) const;

  milliseconds initial_;
  double multiplier_;  // 1 for the fixed kinds
  double randomization_factor_;
  std::optional<milliseconds> max_interval_;
};

}  // namespace mambogo::runtime

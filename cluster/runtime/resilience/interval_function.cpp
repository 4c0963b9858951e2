#include "runtime/resilience/interval_function.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mambogo::runtime {

namespace {
void check_interval(std::chrono::milliseconds interval, const char* what) {
  if (interval.count() < 1)
    throw std::invalid_argument(std::string("interval function: ") + what + " must be >= 1 ms");
}

// The top 53 bits as a double in [0, 1): fully specified, unlike std::uniform_real_distribution,
// so seeded tests hold on every standard library.
double unit_interval(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
}  // namespace

IntervalFunction::IntervalFunction(milliseconds initial, double multiplier,
                                   double randomization_factor,
                                   std::optional<milliseconds> max_interval)
    : initial_(initial),
      multiplier_(multiplier),
      randomization_factor_(randomization_factor),
      max_interval_(max_interval) {
  check_interval(initial_, "interval");
  if (max_interval_) check_interval(*max_interval_, "max interval");
  if (!(multiplier_ > 0)) throw std::invalid_argument("interval function: multiplier must be > 0");
  if (!(randomization_factor_ >= 0 && randomization_factor_ <= 1))
    throw std::invalid_argument("interval function: randomization factor must be in [0, 1]");
}

IntervalFunction::IntervalFunction() : IntervalFunction(milliseconds(500), 1.0, 0.0, std::nullopt) {}

IntervalFunction IntervalFunction::fixed(milliseconds interval) {
  return IntervalFunction(interval, 1.0, 0.0, std::nullopt);
}

IntervalFunction IntervalFunction::randomized(milliseconds interval, double randomization_factor) {
  return IntervalFunction(interval, 1.0, randomization_factor, std::nullopt);
}

IntervalFunction IntervalFunction::exponential(milliseconds initial, double multiplier,
                                               std::optional<milliseconds> max_interval) {
  return IntervalFunction(initial, multiplier, 0.0, max_interval);
}

IntervalFunction IntervalFunction::exponential_random(milliseconds initial, double multiplier,
                                                      double randomization_factor,
                                                      std::optional<milliseconds> max_interval) {
  return IntervalFunction(initial, multiplier, randomization_factor, max_interval);
}

std::int64_t IntervalFunction::uncapped(int attempt) const {
  if (attempt < 1) throw std::invalid_argument("interval function: attempt must be >= 1");
  // Resilience4j iterates x -> (long)(x * multiplier), truncating at every step; the result
  // differs from initial * multiplier^(n-1) (500, 750, 1125, 1687, 2530, ...).
  constexpr std::int64_t kCeiling = std::int64_t{1} << 52;  // beyond any useful wait, no overflow
  std::int64_t interval = initial_.count();
  for (int i = 1; i < attempt && interval < kCeiling; ++i)
    interval = static_cast<std::int64_t>(static_cast<double>(interval) * multiplier_);
  return std::min(interval, kCeiling);
}

IntervalFunction::milliseconds IntervalFunction::base(int attempt) const {
  std::int64_t interval = uncapped(attempt);
  if (max_interval_) interval = std::min(interval, max_interval_->count());
  return milliseconds(interval);
}

IntervalFunction::milliseconds IntervalFunction::operator()(int attempt,
                                                            std::mt19937_64& rng) const {
  std::int64_t interval = uncapped(attempt);
  if (randomization_factor_ > 0) {
    const double current = static_cast<double>(interval);
    const double delta = randomization_factor_ * current;
    const double low = current - delta;
    const double high = current + delta;
    interval = static_cast<std::int64_t>(low + unit_interval(rng) * (high - low));
  }
  if (max_interval_) interval = std::min(interval, max_interval_->count());
  return milliseconds(interval);
}

}  // namespace mambogo::runtime

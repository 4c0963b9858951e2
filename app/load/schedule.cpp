#include "load/schedule.h"

#include <cmath>

namespace mambogo::load {

ArrivalSchedule::ArrivalSchedule(std::vector<ArrivalPhase> phases) : phases_(std::move(phases)) {}

std::optional<double> ArrivalSchedule::offset_in_phase(const ArrivalPhase& p, std::int64_t i) const {
  const double d = p.duration_s, n = static_cast<double>(i);
  if (p.pause) return std::nullopt;
  if (p.arrival_count) {
    if (i >= *p.arrival_count) return std::nullopt;
    return n * d / static_cast<double>(*p.arrival_count);
  }
  double a = p.rate, b = p.ramp_to.value_or(p.rate);
  double t;
  if (std::abs(b - a) < 1e-12) {
    if (a <= 0) return std::nullopt;
    t = n / a;
  } else {
    double k = (b - a) / d;  // rate slope per second
    double disc = a * a + 2 * k * n;
    if (disc < 0) return std::nullopt;
    t = (std::sqrt(disc) - a) / k;
  }
  if (!(t < d)) return std::nullopt;
  return t;
}

std::optional<ArrivalSchedule::Arrival> ArrivalSchedule::next() {
  while (phase_ < phases_.size()) {
    if (auto t = offset_in_phase(phases_[phase_], in_phase_)) {
      ++in_phase_;
      auto at =
          std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround((phase_start_s_ + *t) * 1e9)));
      return Arrival{at, phase_, index_++};
    }
    phase_start_s_ += phases_[phase_].duration_s;
    ++phase_;
    in_phase_ = 0;
  }
  return std::nullopt;
}

std::size_t phase_at(const std::vector<ArrivalPhase>& phases, double elapsed_s) {
  double end = 0;
  for (std::size_t i = 0; i < phases.size(); ++i) {
    end += phases[i].duration_s;
    if (elapsed_s < end) return i;
  }
  return phases.empty() ? 0 : phases.size() - 1;
}

}  // namespace mambogo::load

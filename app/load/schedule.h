// When the open model's arrivals happen: a pure function of the phases, so it is tested
// without clocks. Phases run back to back:
//   pause             no arrivals for `duration_s`
//   arrival_count N   N arrivals evenly spaced: t_i = i * D / N
//   rate r            t_i = i / r for t_i < D (evenly spaced, as k6's constant-arrival-rate)
//   rate a, ramp_to b the rate grows linearly from a to b over D: the i-th arrival is where
//                     the integral of the rate reaches i (a + (b - a) t / D)
// Ownership: a value. Thread-safety: none (each engine worker owns its own copy).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "load/plan.h"

namespace mambogo::load {

class ArrivalSchedule {
 public:
  struct Arrival {
    std::chrono::nanoseconds at;  // since the start of the run
    std::size_t phase;
    std::int64_t index;  // 0, 1, 2, ... over the whole run
  };

  explicit ArrivalSchedule(std::vector<ArrivalPhase> phases);
  std::optional<Arrival> next();

 private:
  std::optional<double> offset_in_phase(const ArrivalPhase& p, std::int64_t i) const;

  std::vector<ArrivalPhase> phases_;
  std::size_t phase_ = 0;
  double phase_start_s_ = 0;
  std::int64_t in_phase_ = 0;
  std::int64_t index_ = 0;
};

// Which phase is running `elapsed_s` after the start (the last one after the end).
std::size_t phase_at(const std::vector<ArrivalPhase>& phases, double elapsed_s);

}  // namespace mambogo::load

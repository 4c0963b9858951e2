// A log-linear latency histogram with HdrHistogram's layout and properties: values in
// microseconds from 1 µs to 1 h, 3 significant digits (every value is recorded with a
// relative error below 0.1 %), fixed memory (23,552 64-bit counters, about 184 KiB, allocated
// once at construction), O(1) record, exact merge of two histograms, percentiles computed the
// way HdrHistogram computes them (the highest value equivalent to the bucket that reaches the
// requested count). Values above 1 h are clamped to 1 h and counted in saturated().
//
// Ownership: a value type (copyable, movable). Thread-safety: none; callers serialise access
// (the engine keeps one per worker under that worker's stats mutex and merges copies).
#pragma once

#include <cstdint>
#include <vector>

namespace mambogo::load {

class Histogram {
 public:
  static constexpr std::int64_t lowest = 1;                 // 1 µs
  static constexpr std::int64_t highest = 3'600'000'000LL;  // 1 h in µs
  static constexpr int significant_digits = 3;

  Histogram();

  // Records one value (µs). Negative values count as 0.
  void record(std::int64_t value_us, std::int64_t count = 1);
  // Adds every count of `other` (same layout by construction, so merging is exact).
  void merge(const Histogram& other);
  void reset();

  std::int64_t total_count() const { return total_; }
  std::int64_t saturated() const { return saturated_; }
  // Exact extremes of the recorded (clamped) values; 0 when empty.
  std::int64_t min() const { return total_ ? min_ : 0; }
  std::int64_t max() const { return max_; }
  double mean() const;
  double stddev() const;
  // HdrHistogram's valueAtPercentile: p in [0, 100]; 0 when empty. Never above max().
  std::int64_t value_at_percentile(double p) const;

  // The layout, exposed for tests and for the HdrHistogram-style spectrum printer.
  std::size_t counter_count() const { return counts_.size(); }
  std::int64_t lowest_equivalent(std::int64_t v) const;
  std::int64_t highest_equivalent(std::int64_t v) const;

 private:
  std::size_t index_of(std::int64_t v) const;
  std::int64_t value_of(std::size_t index) const;

  std::vector<std::int64_t> counts_;
  std::int64_t total_ = 0;
  std::int64_t saturated_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace mambogo::load

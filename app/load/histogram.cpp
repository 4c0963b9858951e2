#include "load/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mambogo::load {
namespace {

// 2 * 10^3 values with unit resolution need 2048 sub-buckets (HdrHistogram rounds up to a
// power of two); the first half of every bucket after the first repeats the previous bucket.
constexpr int sub_bucket_count_magnitude = 11;  // 2048
constexpr int sub_bucket_half_count_magnitude = sub_bucket_count_magnitude - 1;
constexpr std::int64_t sub_bucket_count = 1LL << sub_bucket_count_magnitude;
constexpr std::int64_t sub_bucket_half_count = sub_bucket_count / 2;
constexpr std::uint64_t sub_bucket_mask = sub_bucket_count - 1;  // unit magnitude 0

constexpr int bucket_count() {
  std::int64_t smallest_untrackable = sub_bucket_count;
  int buckets = 1;
  while (smallest_untrackable <= Histogram::highest) {
    smallest_untrackable <<= 1;
    ++buckets;
  }
  return buckets;
}

int bucket_index(std::int64_t v) {
  int pow2ceiling = 64 - std::countl_zero(static_cast<std::uint64_t>(v) | sub_bucket_mask);
  return pow2ceiling - (sub_bucket_half_count_magnitude + 1);
}

}  // namespace

Histogram::Histogram() : counts_((bucket_count() + 1) * sub_bucket_half_count, 0) {}

std::size_t Histogram::index_of(std::int64_t v) const {
  int bucket = bucket_index(v);
  std::int64_t sub_bucket = v >> bucket;
  std::int64_t base = static_cast<std::int64_t>(bucket + 1) << sub_bucket_half_count_magnitude;
  return static_cast<std::size_t>(base + (sub_bucket - sub_bucket_half_count));
}

std::int64_t Histogram::value_of(std::size_t index) const {
  int bucket = static_cast<int>(index >> sub_bucket_half_count_magnitude) - 1;
  std::int64_t sub_bucket =
      static_cast<std::int64_t>(index & (sub_bucket_half_count - 1)) + sub_bucket_half_count;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count;
    bucket = 0;
  }
  return sub_bucket << bucket;
}

std::int64_t Histogram::lowest_equivalent(std::int64_t v) const {
  int bucket = bucket_index(v);
  return (v >> bucket) << bucket;
}

std::int64_t Histogram::highest_equivalent(std::int64_t v) const {
  int bucket = bucket_index(v);
  std::int64_t sub_bucket = v >> bucket;
  int adjusted = sub_bucket >= sub_bucket_count ? bucket + 1 : bucket;
  return lowest_equivalent(v) + (std::int64_t{1} << adjusted) - 1;
}

void Histogram::record(std::int64_t value_us, std::int64_t count) {
  if (count <= 0) return;
  std::int64_t v = std::max<std::int64_t>(value_us, 0);
  if (v > highest) {
    v = highest;
    saturated_ += count;
  }
  counts_[index_of(v)] += count;
  min_ = total_ ? std::min(min_, v) : v;
  max_ = std::max(max_, v);
  total_ += count;
}

void Histogram::merge(const Histogram& other) {
  if (!other.total_) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = total_ ? std::min(min_, other.min_) : other.min_;
  max_ = std::max(max_, other.max_);
  total_ += other.total_;
  saturated_ += other.saturated_;
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = saturated_ = min_ = max_ = 0;
}

double Histogram::mean() const {
  if (!total_) return 0;
  double sum = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) {
      std::int64_t v = value_of(i);
      sum += static_cast<double>(counts_[i]) *
             static_cast<double>(lowest_equivalent(v) + highest_equivalent(v)) / 2.0;
    }
  return sum / static_cast<double>(total_);
}

double Histogram::stddev() const {
  if (!total_) return 0;
  double m = mean(), acc = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) {
      std::int64_t v = value_of(i);
      double d = static_cast<double>(lowest_equivalent(v) + highest_equivalent(v)) / 2.0 - m;
      acc += d * d * static_cast<double>(counts_[i]);
    }
  return std::sqrt(acc / static_cast<double>(total_));
}

std::int64_t Histogram::value_at_percentile(double p) const {
  if (!total_) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto wanted = static_cast<std::int64_t>(p / 100.0 * static_cast<double>(total_) + 0.5);
  wanted = std::max<std::int64_t>(wanted, 1);
  std::int64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(highest_equivalent(value_of(i)), max_);
  }
  return max_;
}

}  // namespace mambogo::load

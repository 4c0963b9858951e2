// Prometheus text exposition format 0.0.4: a parser, and the PromQL maths the console needs
// over what it parses (histogram_quantile, counter increase and rate).
//
// Offers
//   - parsePrometheusText(text): samples with their labels, value and optional timestamp, the
//     HELP/TYPE metadata per family, and one ParseError (line number + reason) per rejected
//     line. Parsing is lenient by line: a bad line is reported and skipped, the others are
//     kept, so one malformed series does not blank a whole scrape (Prometheus itself would
//     drop the scrape). Any input is safe: no crash, no exception, memory linear in the input.
//     Accepted: HELP/TYPE comments (other comments ignored), label values with the escapes
//     \\ \" \n, values NaN, +Inf, -Inf and Go float syntax, optional integer timestamps (ms),
//     histograms (_bucket{le}, _sum, _count) and summaries ({quantile}, _sum, _count).
//   - histogramQuantile(q, buckets): PromQL's histogram_quantile over cumulative buckets:
//     sorted by upper bound, equal bounds merged, counts made monotonic (a count lower than
//     the one before it is raised to it), linear interpolation inside the bucket holding the
//     rank, the lowest bucket starting at 0 (or returning its bound when that is <= 0), the
//     +Inf bucket answering the highest finite bound. NaN when there is no +Inf bucket, fewer
//     than two buckets or no observations; -Inf / +Inf for q < 0 / q > 1.
//   - counterIncrease/counterRate(points): PromQL's increase/rate over the given samples
//     *without* extrapolation to the window's edges: the sum of the deltas between consecutive
//     samples, a decrease counting as a reset (the new value is then the delta). The rate
//     divides by the time between the first and the last sample. This is what a console
//     plotting per-scrape rates wants; Prometheus's rate() would scale the increase up to the
//     full window.
//
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mambogo::core::prom {

enum class MetricType { Untyped, Counter, Gauge, Histogram, Summary };

// Label pairs in the order the exposition wrote them.
using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string name;  // full sample name, e.g. http_server_requests_seconds_bucket
  Labels labels;
  double value = 0;
  std::optional<std::int64_t> timestampMs;

  // The value of label `key`, or nullopt.
  std::optional<std::string_view> label(std::string_view key) const;
};

struct FamilyInfo {
  MetricType type = MetricType::Untyped;
  std::string help;
};

struct ParseError {
  int line = 0;  // 1-based
  std::string reason;
  std::string toString() const { return "line " + std::to_string(line) + ": " + reason; }
};

struct Exposition {
  std::vector<Sample> samples;                             // in input order
  std::unordered_map<std::string, FamilyInfo> families;    // by family name (from HELP/TYPE)
  std::vector<ParseError> errors;

  // The family a sample name belongs to: "x" for "x_bucket" when x is a histogram, etc.
  std::string familyOf(std::string_view sampleName) const;
  MetricType typeOf(std::string_view sampleName) const;
};

Exposition parsePrometheusText(std::string_view text);

struct Bucket {
  double upperBound = 0;  // the le label; +Inf for the last bucket
  double count = 0;       // cumulative
};

double histogramQuantile(double q, std::vector<Bucket> buckets);

struct CounterPoint {
  std::int64_t timestampMs = 0;
  double value = 0;
};

// Points in time order. Increase of fewer than two points is 0.
double counterIncrease(std::span<const CounterPoint> points);
// Per second; NaN with fewer than two points or no time between the first and the last.
double counterRate(std::span<const CounterPoint> points);

// Parses a float as the exposition writes it (also "+Inf", "-Inf", "NaN"); nullopt if invalid.
std::optional<double> parseFloat(std::string_view text);

}  // namespace mambogo::core::prom

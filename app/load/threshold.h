// Pass/fail criteria on a finished run, k6-style: "[metric:]aggregation op value".
//   http_req_duration:p(95)<500     latency (ms, corrected for coordinated omission)
//   http_req_duration_service:p(99)<250ms   the uncorrected service time
//     aggregations: p(N) pN avg min max med;  value units: ms (default), s, us
//   http_req_failed:rate<0.01       fraction of requests that failed (transport error,
//                                   status >= 400, failed capture or assertion)
//   http_reqs:count>1000  http_reqs:rate>=100   requests, requests per second
//   dropped_iterations:count==0     arrivals that could not start
// Without a metric, p(N)/avg/min/max/med mean http_req_duration and "rate" means
// http_req_failed. Operators: < <= > >= ==.
//
// Errors: parse_threshold throws std::invalid_argument with the reason.
// Thread-safety: immutable values.
#pragma once

#include <string>
#include <string_view>

namespace mambogo::load {

struct Summary;

struct Threshold {
  enum class Metric { duration, service_duration, failed, requests, dropped };
  enum class Aggregation { percentile, avg, min, max, count, rate };
  enum class Op { lt, le, gt, ge, eq };
  std::string text;  // as written, shown in the summary
  Metric metric = Metric::duration;
  Aggregation aggregation = Aggregation::percentile;
  double percentile = 95;
  Op op = Op::lt;
  double limit = 0;  // ms for durations
};

struct ThresholdResult {
  Threshold threshold;
  double observed = 0;
  bool passed = true;
  std::string observed_text;  // "p(95)=148.21ms"
};

Threshold parse_threshold(std::string_view text);
ThresholdResult evaluate(const Threshold& t, const Summary& s);
std::string_view metric_name(Threshold::Metric m);

}  // namespace mambogo::load

#include "load/threshold.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "load/stats.h"

namespace mambogo::load {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw std::invalid_argument("threshold '" + std::string(text) + "': " + why);
}

double parse_number(std::string_view s, std::string_view text) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size())
    fail(text, "'" + std::string(s) + "' is not a number");
  return v;
}

bool is_duration(Threshold::Metric m) {
  return m == Threshold::Metric::duration || m == Threshold::Metric::service_duration;
}

std::string format(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string_view metric_name(Threshold::Metric m) {
  switch (m) {
    case Threshold::Metric::duration:
      return "http_req_duration";
    case Threshold::Metric::service_duration:
      return "http_req_duration_service";
    case Threshold::Metric::failed:
      return "http_req_failed";
    case Threshold::Metric::requests:
      return "http_reqs";
    case Threshold::Metric::dropped:
      return "dropped_iterations";
  }
  return "?";
}

Threshold parse_threshold(std::string_view text) {
  Threshold t;
  t.text = std::string(trim(text));
  std::string_view s = t.text;
  auto op_at = s.find_first_of("<>=");
  if (op_at == std::string_view::npos) fail(text, "no comparison (<, <=, >, >=, ==)");
  std::string_view lhs = trim(s.substr(0, op_at));
  std::string_view rest = s.substr(op_at);
  std::size_t op_len = rest.size() > 1 && rest[1] == '=' ? 2 : 1;
  std::string_view op = rest.substr(0, op_len);
  if (op == "<")
    t.op = Threshold::Op::lt;
  else if (op == "<=")
    t.op = Threshold::Op::le;
  else if (op == ">")
    t.op = Threshold::Op::gt;
  else if (op == ">=")
    t.op = Threshold::Op::ge;
  else if (op == "==")
    t.op = Threshold::Op::eq;
  else
    fail(text, "unknown operator '" + std::string(op) + "'");
  std::string_view value = trim(rest.substr(op_len));

  std::string_view metric, agg = lhs;
  if (auto colon = lhs.find(':'); colon != std::string_view::npos) {
    metric = trim(lhs.substr(0, colon));
    agg = trim(lhs.substr(colon + 1));
  }
  if (agg.starts_with("p(") && agg.ends_with(")")) {
    t.aggregation = Threshold::Aggregation::percentile;
    t.percentile = parse_number(agg.substr(2, agg.size() - 3), text);
  } else if (agg.size() > 1 && agg[0] == 'p' && std::isdigit(static_cast<unsigned char>(agg[1]))) {
    // p99 = 99, p999 = 99.9 (Artillery's spelling)
    std::string digits(agg.substr(1));
    t.percentile = digits == "999" ? 99.9 : parse_number(digits, text);
  } else if (agg == "avg")
    t.aggregation = Threshold::Aggregation::avg;
  else if (agg == "min")
    t.aggregation = Threshold::Aggregation::min;
  else if (agg == "max")
    t.aggregation = Threshold::Aggregation::max;
  else if (agg == "med") {
    t.aggregation = Threshold::Aggregation::percentile;
    t.percentile = 50;
  } else if (agg == "count")
    t.aggregation = Threshold::Aggregation::count;
  else if (agg == "rate")
    t.aggregation = Threshold::Aggregation::rate;
  else
    fail(text, "unknown aggregation '" + std::string(agg) + "'");
  if (t.percentile < 0 || t.percentile > 100) fail(text, "percentile must be within 0..100");

  bool latency_agg =
      t.aggregation != Threshold::Aggregation::count && t.aggregation != Threshold::Aggregation::rate;
  if (metric.empty())
    t.metric = latency_agg ? Threshold::Metric::duration : Threshold::Metric::failed;
  else if (metric == "http_req_duration")
    t.metric = Threshold::Metric::duration;
  else if (metric == "http_req_duration_service")
    t.metric = Threshold::Metric::service_duration;
  else if (metric == "http_req_failed")
    t.metric = Threshold::Metric::failed;
  else if (metric == "http_reqs")
    t.metric = Threshold::Metric::requests;
  else if (metric == "dropped_iterations")
    t.metric = Threshold::Metric::dropped;
  else
    fail(text, "unknown metric '" + std::string(metric) + "'");
  if (is_duration(t.metric) != latency_agg)
    fail(text,
         "aggregation '" + std::string(agg) + "' does not apply to " + std::string(metric_name(t.metric)));
  if (t.metric == Threshold::Metric::dropped && t.aggregation != Threshold::Aggregation::count)
    fail(text, "dropped_iterations only has count");
  if (t.metric == Threshold::Metric::failed && t.aggregation != Threshold::Aggregation::rate)
    fail(text, "http_req_failed only has rate");

  double scale = 1;
  if (is_duration(t.metric)) {
    if (value.ends_with("ms"))
      value.remove_suffix(2);
    else if (value.ends_with("us")) {
      value.remove_suffix(2);
      scale = 0.001;
    } else if (value.ends_with("s")) {
      value.remove_suffix(1);
      scale = 1000;
    }
  }
  t.limit = parse_number(trim(value), text) * scale;
  return t;
}

ThresholdResult evaluate(const Threshold& t, const Summary& s) {
  ThresholdResult r;
  r.threshold = t;
  const auto& h = t.metric == Threshold::Metric::service_duration ? s.overall.service : s.overall.corrected;
  std::string label;
  switch (t.aggregation) {
    case Threshold::Aggregation::percentile:
      r.observed = static_cast<double>(h.value_at_percentile(t.percentile)) / 1000.0;
      label = "p(" + short_number(t.percentile) + ")";
      break;
    case Threshold::Aggregation::avg:
      r.observed = h.mean() / 1000.0;
      label = "avg";
      break;
    case Threshold::Aggregation::min:
      r.observed = static_cast<double>(h.min()) / 1000.0;
      label = "min";
      break;
    case Threshold::Aggregation::max:
      r.observed = static_cast<double>(h.max()) / 1000.0;
      label = "max";
      break;
    case Threshold::Aggregation::count:
      r.observed = static_cast<double>(t.metric == Threshold::Metric::dropped ? s.dropped : s.overall.count);
      label = "count";
      break;
    case Threshold::Aggregation::rate:
      if (t.metric == Threshold::Metric::failed)
        r.observed = s.overall.count
                         ? static_cast<double>(s.overall.failed) / static_cast<double>(s.overall.count)
                         : 0;
      else
        r.observed = s.duration_s > 0 ? static_cast<double>(s.overall.count) / s.duration_s : 0;
      label = "rate";
      break;
  }
  switch (t.op) {
    case Threshold::Op::lt:
      r.passed = r.observed < t.limit;
      break;
    case Threshold::Op::le:
      r.passed = r.observed <= t.limit;
      break;
    case Threshold::Op::gt:
      r.passed = r.observed > t.limit;
      break;
    case Threshold::Op::ge:
      r.passed = r.observed >= t.limit;
      break;
    case Threshold::Op::eq:
      r.passed = r.observed == t.limit;
      break;
  }
  r.observed_text = label + "=" + format(r.observed) + (is_duration(t.metric) ? "ms" : "");
  return r;
}

}  // namespace mambogo::load

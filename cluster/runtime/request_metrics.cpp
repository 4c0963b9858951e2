#include "runtime/request_metrics.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <tuple>

namespace mambogo::runtime {

namespace {
const std::vector<double> kBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};
constexpr std::size_t kSlots = 15;  // the bounds above plus +Inf

const char* outcome_of(int status) {
  if (status < 200) return "INFORMATIONAL";
  if (status < 300) return "SUCCESS";
  if (status < 400) return "REDIRECTION";
  if (status < 500) return "CLIENT_ERROR";
  return "SERVER_ERROR";
}

// Single-writer increment: no locked instruction, still a data-race-free read for scrapes.
template <typename T, typename U>
void bump(std::atomic<T>& a, U delta) {
  a.store(a.load(std::memory_order_relaxed) + static_cast<T>(delta), std::memory_order_relaxed);
}
}  // namespace

struct alignas(64) RequestMetrics::Series {
  std::string method, uri, status;
  std::array<std::atomic<std::uint64_t>, kSlots> counts{};  // per bucket, not cumulative
  std::atomic<double> sum{0};
};

const std::vector<double>& RequestMetrics::bucket_bounds() { return kBounds; }

std::size_t RequestMetrics::Shard::KeyHash::operator()(const Key& k) const noexcept {
  return std::hash<const void*>()(k.route) ^ (std::hash<std::string>()(k.method) << 1) ^
         (static_cast<std::size_t>(k.status) << 7);
}

void RequestMetrics::Shard::observe(const void* route, std::string_view method,
                                    std::string_view uri, int status, double seconds) {
  Key key{route, std::string(method), status};
  auto it = series_.find(key);
  if (it == series_.end())
    it = series_.emplace(std::move(key), owner_.add_series(method, uri, status)).first;
  Series& s = *it->second;
  const auto slot = static_cast<std::size_t>(
      std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  bump(s.counts[slot], 1);
  s.sum.store(s.sum.load(std::memory_order_relaxed) + seconds, std::memory_order_relaxed);
  bump(requests_, 1);
}

RequestMetrics::RequestMetrics() = default;
RequestMetrics::~RequestMetrics() = default;

RequestMetrics::Shard& RequestMetrics::add_shard() {
  std::lock_guard lock(mutex_);
  return shards_.emplace_back(*this);
}

RequestMetrics::Series* RequestMetrics::add_series(std::string_view method, std::string_view uri,
                                                   int status) {
  auto s = std::make_unique<Series>();
  s->method = method;
  s->uri = uri;
  s->status = std::to_string(status);
  std::lock_guard lock(mutex_);
  series_.push_back(std::move(s));
  return series_.back().get();
}

std::vector<prometheus::MetricFamily> RequestMetrics::Collect() const {
  using Labels = std::tuple<std::string, std::string, std::string>;  // method, uri, status
  std::map<Labels, std::pair<std::array<std::uint64_t, kSlots>, double>> merged;
  int connections = 0, in_flight = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : series_) {
      auto& [counts, sum] = merged[{s->method, s->uri, s->status}];
      for (std::size_t i = 0; i < kSlots; ++i) counts[i] += s->counts[i].load(std::memory_order_relaxed);
      sum += s->sum.load(std::memory_order_relaxed);
    }
    for (const auto& shard : shards_) {
      connections += shard.connections_.load(std::memory_order_relaxed);
      in_flight += shard.in_flight_.load(std::memory_order_relaxed);
    }
  }
  prometheus::MetricFamily latency{"http_server_requests_seconds",
                                   "Time from the first byte of a request to the end of its response",
                                   prometheus::MetricType::Histogram, {}};
  for (const auto& [labels, data] : merged) {
    const auto& [method, uri, status] = labels;
    prometheus::ClientMetric m;
    m.label = {{"method", method}, {"outcome", outcome_of(std::stoi(status))}, {"status", status},
               {"uri", uri}};
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kSlots; ++i) {
      cumulative += data.first[i];
      m.histogram.bucket.push_back(
          {cumulative, i < kBounds.size() ? kBounds[i] : std::numeric_limits<double>::infinity()});
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = data.second;
    latency.metric.push_back(std::move(m));
  }
  auto gauge = [](const char* name, const char* help, double value) {
    prometheus::MetricFamily f{name, help, prometheus::MetricType::Gauge, {}};
    prometheus::ClientMetric m;
    m.gauge.value = value;
    f.metric.push_back(std::move(m));
    return f;
  };
  std::vector<prometheus::MetricFamily> out;
  out.push_back(std::move(latency));
  out.push_back(gauge("http_server_requests_active", "Requests read and not yet answered", in_flight));
  out.push_back(gauge("http_server_connections_active", "Open client connections", connections));
  return out;
}

int RequestMetrics::connections() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& s : shards_) n += s.connections_.load(std::memory_order_relaxed);
  return n;
}

int RequestMetrics::in_flight() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& s : shards_) n += s.in_flight_.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t RequestMetrics::requests() const {
  std::lock_guard lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& s : shards_) n += s.requests_.load(std::memory_order_relaxed);
  return n;
}

}  // namespace mambogo::runtime

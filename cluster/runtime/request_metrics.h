// The HTTP server's per-request metrics, written by every I/O thread without a shared lock:
// each thread owns a Shard and is its only writer (relaxed atomics, no read-modify-write
// across cores); a scrape merges the shards. prometheus-cpp's Histogram locks a mutex on
// every Observe, which at two I/O threads showed up as lock waits in p99.
//
// Exported (merged over shards):
//   http_server_requests_seconds{method,uri,status,outcome}  histogram
//   http_server_requests_active                              gauge, read but not answered
//   http_server_connections_active                           gauge, open connections
//
// Thread-safety: a Shard's observe/add_* only from its owning thread; add_shard(), Collect()
// and the totals from any thread. Shards live as long as the RequestMetrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace mambogo::runtime {

class RequestMetrics : public prometheus::Collectable {
 public:
  // Upper bounds in seconds, as in http_server_requests_seconds_bucket{le=...}.
  static const std::vector<double>& bucket_bounds();

  struct Series;  // one label set as written by one shard

  // Cache-line aligned: two threads' shards must not share a line they both write.
  class alignas(64) Shard {
   public:
    explicit Shard(RequestMetrics& owner) : owner_(owner) {}
    // `route` identifies the route (its address) so the label strings are built once.
    void observe(const void* route, std::string_view method, std::string_view uri, int status,
                 double seconds);
    void add_in_flight(int delta) { in_flight_.store(in_flight_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed); }
    void add_connections(int delta) { connections_.store(connections_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed); }

   private:
    friend class RequestMetrics;
    struct Key {
      const void* route;
      std::string method;
      int status;
      bool operator==(const Key&) const = default;
    };
    struct KeyHash {
      std::size_t operator()(const Key& k) const noexcept;
    };
    RequestMetrics& owner_;
    std::unordered_map<Key, Series*, KeyHash> series_;  // owning thread only
    std::atomic<int> in_flight_{0};
    std::atomic<int> connections_{0};
    std::atomic<std::uint64_t> requests_{0};
  };

  RequestMetrics();
  ~RequestMetrics() override;

  Shard& add_shard();

  std::vector<prometheus::MetricFamily> Collect() const override;

  int connections() const;
  int in_flight() const;
  std::uint64_t requests() const;

 private:
  Series* add_series(std::string_view method, std::string_view uri, int status);

  mutable std::mutex mutex_;       // guards the two containers (not the atomics inside)
  std::deque<Shard> shards_;       // stable addresses
  std::deque<std::unique_ptr<Series>> series_;
};

}  // namespace mambogo::runtime

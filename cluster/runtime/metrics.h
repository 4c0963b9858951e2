// The service's metrics registry (prometheus-cpp) plus the standard process metrics
// (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds, process_threads), read
// from /proc at scrape time. serialize() is what /metrics answers.
//
// Thread-safety: registry() families and metrics are thread-safe (prometheus-cpp);
// serialize() may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
class Collectable;
}

namespace mambogo::runtime {

class ProcessCollector;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  // Adds metrics collected by their owner at scrape time (a server's per-thread request
  // metrics). Expired entries are skipped and dropped.
  void add_collectable(std::weak_ptr<prometheus::Collectable> collectable);
  // Prometheus text exposition format 0.0.4.
  std::string serialize() const;

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ProcessCollector> process_;
  mutable std::mutex collectables_mutex_;
  mutable std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;  // guarded
};

}  // namespace mambogo::runtime

// What the node (the pod runtime, our kubelet) offers the rest of mambogo-cluster: log files
// for `kubectl logs`, resource usage for metrics.k8s.io and the HPA controller, and the
// chaos actions that only the node can carry out. The API server and the controllers depend
// on this interface only; simulator/pods implements it (Kubelet).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mambogo::sim {

struct ContainerUsage {
  std::string name;
  std::uint64_t cpu_nanocores = 0;  // average over the last measurement window (~1-10 s)
  std::uint64_t memory_bytes = 0;   // working set (RSS of the container's processes)
};

struct PodUsage {
  std::string timestamp;      // RFC 3339, end of the window
  double window_seconds = 0;  // the measurement window
  std::vector<ContainerUsage> containers;
};

struct NodeUsage {
  std::string timestamp;
  double window_seconds = 0;
  std::uint64_t cpu_nanocores = 0;
  std::uint64_t memory_bytes = 0;
};

class NodeBackend {
 public:
  virtual ~NodeBackend() = default;

  // The node's name ("mambogo-local"); pods are bound to it.
  virtual std::string node_name() const = 0;

  // The log file of a pod's container (its stdout and stderr, one line per write as the
  // process wrote them). previous: the log of the container's last terminated instance.
  // nullopt when the pod or container is unknown or has no such log.
  virtual std::optional<std::filesystem::path> log_file(const std::string& ns, const std::string& pod,
                                                        const std::string& container, bool previous) const = 0;

  // Measured usage of a running pod; nullopt when not (yet) measured.
  virtual std::optional<PodUsage> pod_usage(const std::string& ns, const std::string& pod) const = 0;
  virtual NodeUsage node_usage() const = 0;
  // Capacity the node reports (cores, bytes).
  virtual double cpu_capacity_cores() const = 0;
  virtual std::uint64_t memory_capacity_bytes() const = 0;
};

}  // namespace mambogo::sim

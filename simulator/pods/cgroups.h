// CPU cgroups for pods: one cgroup per container under <root>/<hierarchy>/<name>/<pod-uid>/
// with the container's CPU limit as a CFS quota, and its CPU accounting for usage. Works on
// cgroup v1 (cpu and cpuacct hierarchies, co-mounted or not) and on cgroup v2 (cpu.max,
// cpu.stat) when the cpu controller can be delegated.
//
// Thread-safety: every member may be called from any thread (no mutable state besides the
// file system). Lifetime: cgroups outlive this object until remove_pod()/remove_stale().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mambogo::sim {

struct ContainerCgroup {
  std::vector<std::filesystem::path> procs_files;  // write a pid here to move it in
  std::filesystem::path usage_file;                // cpuacct.usage (ns) or cpu.stat (usage_usec)
  bool usage_from_cpu_stat = false;
  bool quota_set = false;
};

class CpuCgroups {
 public:
  // A usable layout under root (normally /sys/fs/cgroup) for the parent cgroup `name`, or
  // nullptr with why_not explaining (not root, read-only, no cpu controller, ...).
  static std::unique_ptr<CpuCgroups> open(const std::filesystem::path& root, const std::string& name,
                                          std::string& why_not);

  // Creates the container's cgroup; limit_millis > 0 sets its CFS quota. Throws
  // std::runtime_error naming the file that could not be written.
  ContainerCgroup create(const std::string& pod_uid, const std::string& container, std::int64_t limit_millis) const;
  // Kills what is left in the pod's cgroups and removes them. Never throws.
  void remove_pod(const std::string& pod_uid) const;
  // At start: removes the pod cgroups a previous run left. Cgroups of the pods in `ours` (uids
  // of this node's pods) are emptied by killing what is left; others (another mambogo-cluster
  // may share the parent) are removed only when empty. Never throws.
  void remove_stale(const std::set<std::string>& ours) const;

  // Removes the parent cgroup when no pod cgroup is left in it (another node may share it).
  void remove_parent_if_empty() const;

  static std::optional<std::uint64_t> usage_ns(const ContainerCgroup& cgroup);
  static std::vector<pid_t> pids(const ContainerCgroup& cgroup);
  bool v2() const { return v2_; }

 private:
  CpuCgroups() = default;
  std::vector<std::filesystem::path> bases_;  // v1: cpu (and cpuacct when separate); v2: one
  bool v2_ = false;
};

}  // namespace mambogo::sim

// The node of mambogo-cluster: runs the pods bound to "mambogo-local" as supervised local
// processes, as kubelet does with containers. It registers and heartbeats the Node object,
// binds unbound pods, gives each pod an address 127.0.1.N, runs its init containers to
// completion in order before its app containers, builds each container's environment,
// volumes and command line (image map → local program), starts it in its own process group
// (and CPU cgroup where the OS allows), runs startup/liveness/readiness probes, restarts with
// kubelet's back-off (CrashLoopBackOff), terminates gracefully on deletion, keeps logs per
// container and measures CPU and memory per pod for metrics.k8s.io.
//
// Threads: one kubelet thread (store events, node status), one usage thread, and one worker
// thread per pod that starts, probes, restarts and stops that pod's processes. Every public
// member may be called from any thread. Lifetime: start() once, stop() once (the destructor
// stops); after stop() no process started by this Kubelet is left running. The Store must
// outlive the Kubelet.
#pragma once

#include "pods/image_map.h"
#include "pods/node_backend.h"
#include "store/store.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mambogo::sim {

class CpuCgroups;
class PodWorker;
struct NodeContext;

struct KubeletOptions {
  std::filesystem::path state_dir;  // pods/<ns>_<pod>_<uid>/ (logs, volumes), volumes/<ns>/<claim>
  std::string pod_network = "127.0.1.";  // pods get <pod_network>2 .. <pod_network>254
  ImageMap images;
  std::chrono::milliseconds worker_tick{100};           // how often a pod worker checks its processes
  // PLEG's relist: a pod's container starting or exiting is noticed at the next relist, which
  // syncs the pod; a sync runs the readiness probe of each started, not yet ready container at
  // once (as kubelet's prober manager does), besides its periodic runs.
  std::chrono::milliseconds relist_period{1'000};
  std::chrono::milliseconds sync_period{10'000};        // full resync of the pods in the store
  std::chrono::milliseconds node_status_period{10'000}; // Node heartbeat
  std::chrono::milliseconds usage_period{1'000};        // CPU/memory sampling
  std::chrono::milliseconds usage_window{10'000};       // rate window for PodUsage/NodeUsage
  std::chrono::milliseconds backoff_initial{10'000};    // restart back-off: 10 s doubling ...
  std::chrono::milliseconds backoff_max{300'000};       // ... up to 300 s ...
  std::chrono::milliseconds backoff_reset{600'000};     // ... forgotten after 10 min without a crash
  std::chrono::milliseconds stop_grace_max{30'000};     // stop(): at most this grace per pod
  double probe_time_scale = 1.0;     // scales probes' initialDelaySeconds and periodSeconds
  double cpu_capacity_cores = 0;     // 0: the machine's
  std::uint64_t memory_capacity_bytes = 0;  // 0: the machine's
  bool use_cgroups = true;           // CPU limits and accounting through cgroups when possible
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "mambogo";  // cgroup under each hierarchy holding the pods'
  bool record_events = true;         // core/v1 Events (Started, Killing, BackOff, Unhealthy, ...)
  // The API server as pods see it, wired as kubelet wires it: KUBERNETES_SERVICE_HOST and
  // KUBERNETES_SERVICE_PORT in every container's environment and, unless the pod says
  // automountServiceAccountToken: false, a service-account volume at
  // /var/run/secrets/kubernetes.io/serviceaccount with token, ca.crt and namespace (so a
  // program using client-go's in-cluster configuration finds the API). port 0: none.
  // mambogo-cluster has one identity: every pod's token is the cluster's own bearer token
  // (no per-ServiceAccount tokens; RBAC objects are stored, not enforced).
  struct InClusterApi {
    std::string host;
    std::uint16_t port = 0;
    std::string token;
    std::filesystem::path ca_file;
  } in_cluster_api;
};

class Kubelet : public NodeBackend {
 public:
  // Throws std::runtime_error when state_dir cannot be created.
  Kubelet(Store& store, KubeletOptions options);
  ~Kubelet() override;
  Kubelet(const Kubelet&) = delete;
  Kubelet& operator=(const Kubelet&) = delete;

  void start();
  // Before start(): the API server's address is known only once it listens, after the kubelet
  // it serves logs and usage from was made.
  void set_in_cluster_api(KubeletOptions::InClusterApi api) { options_.in_cluster_api = std::move(api); }
  // Terminates every pod gracefully (SIGTERM, grace capped by stop_grace_max, SIGKILL); pod
  // objects stay in the store so a restarted Kubelet runs them again.
  void stop();

  // NodeBackend
  std::string node_name() const override;
  std::optional<std::filesystem::path> log_file(const std::string& ns, const std::string& pod,
                                                const std::string& container, bool previous) const override;
  std::optional<PodUsage> pod_usage(const std::string& ns, const std::string& pod) const override;
  NodeUsage node_usage() const override;
  double cpu_capacity_cores() const override;
  std::uint64_t memory_capacity_bytes() const override;

  // Whether CPU limits are enforced (cgroups usable); the reason when not.
  bool cpu_limits_enforced() const;
  std::string cpu_limits_reason() const;

  // Chaos actions, for the PodChaos/StressChaos controllers. Each returns false when the pod
  // does not run on this node. Container names empty: every container of the pod.
  // SIGKILL the containers; the restart policy restarts them.
  bool kill_containers(const std::string& ns, const std::string& pod, const std::vector<std::string>& containers);
  // failing: stop the containers and keep them waiting (not ready) until called with false.
  bool set_pod_failure(const std::string& ns, const std::string& pod, bool failing, const std::string& message);
  // Burn `load_percent` of a CPU in each of `workers` processes accounted to the container
  // (empty: the first); workers 0 stops.
  bool set_cpu_stress(const std::string& ns, const std::string& pod, const std::string& container, int workers,
                      int load_percent);

 private:
  struct Event {
    EventType type;
    Json pod;
  };
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t cpu_ns;
  };
  struct UsageSeries {
    std::deque<Sample> samples;
    std::uint64_t memory_bytes = 0;
    int pid = 0;
  };

  void loop();
  void usage_loop();
  void handle(const Event& event);
  void start_worker(const Json& pod);
  void reap_finished();
  void resync();
  void register_node(bool ready);
  std::string allocate_ip(const Json& pod);
  PodWorker* find_worker(const std::string& ns, const std::string& pod) const;  // mutex_ held
  void sample_usage();

  Store& store_;
  KubeletOptions options_;
  std::unique_ptr<CpuCgroups> cgroups_;  // null: CPU limits not enforced
  std::string cgroups_reason_;
  std::unique_ptr<NodeContext> context_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<Event> events_;
  std::map<std::string, std::unique_ptr<PodWorker>> workers_;  // by pod uid
  std::set<std::string> done_uids_;                            // workers that finished
  std::vector<std::string> finished_;                          // to join
  std::set<std::string> used_ips_;
  std::map<std::string, std::map<std::string, UsageSeries>> usage_;  // "ns/pod" → container → series
  std::map<std::string, std::string> usage_uid_;                      // "ns/pod" → uid measured
  std::deque<Sample> node_cpu_;
  std::uint64_t node_memory_ = 0;
  bool running_ = false;
  bool stopping_ = false;

  std::uint64_t watch_id_ = 0;
  std::thread thread_;
  std::thread usage_thread_;
};

}  // namespace mambogo::sim

// Internal to simulator/pods: one pod's life on the node (kubelet's pod worker). A thread owns
// the pod's processes: it prepares volumes, runs the init containers to completion one after
// the other, starts the app containers, reaps them, runs their probes, applies the restart
// policy and back-off, carries out chaos requests, terminates the pod and writes its status to
// the store. The Kubelet talks to it only through the members below.
//
// A worker is one pod sandbox: its init containers run once per worker (again after the node
// restarts, never again when only an app container restarts), as kubelet runs them once per
// sandbox.
//
// Thread-safety: public members may be called from any thread. The destructor joins the
// thread: call removed() or shutdown() first unless the worker has reported it is done.
#pragma once

#include "pods/cgroups.h"
#include "pods/kubelet.h"
#include "pods/probe.h"

#include <atomic>
#include <functional>

namespace mambogo::sim {

// What every pod worker shares; constant after the Kubelet starts.
struct NodeContext {
  Store& store;
  const KubeletOptions& options;
  const CpuCgroups* cgroups = nullptr;  // null: limits not enforced
  std::string node_name;
  double cpu_cores = 1;
  std::uint64_t memory_bytes = 0;
  std::string path_env;
  std::string home_env;
  std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();  // PLEG relist phase
};

class PodWorker {
 public:
  struct UsageTarget {
    std::string container;
    pid_t pid = 0;                 // the container's process (and process group)
    std::vector<pid_t> extra;      // StressChaos burners
    std::optional<ContainerCgroup> cgroup;
  };

  // on_done runs on the worker thread when it has finished (every process gone).
  PodWorker(const NodeContext& context, Json pod, std::string pod_ip, std::function<void(const std::string& uid)> on_done);
  ~PodWorker();
  PodWorker(const PodWorker&) = delete;
  PodWorker& operator=(const PodWorker&) = delete;

  const std::string& uid() const { return uid_; }
  const std::string& ns() const { return ns_; }
  const std::string& name() const { return name_; }
  const std::string& pod_ip() const { return pod_ip_; }

  void update(Json pod);                           // a newer version of the object
  void removed();                                  // gone from the store: kill at once
  void shutdown(std::chrono::milliseconds grace_cap);  // node stops: graceful, object kept

  bool kill_containers(const std::vector<std::string>& names);
  void set_failure(bool failing, const std::string& message);
  bool set_stress(const std::string& container, int workers, int load_percent);

  std::optional<std::filesystem::path> log_file(const std::string& container, bool previous) const;
  std::vector<UsageTarget> usage_targets() const;

 private:
  struct Container;
  struct Control;

  void run();
  void prepare_pod_dir();
  Control take_control(std::chrono::steady_clock::time_point wake_by);
  std::chrono::steady_clock::time_point next_deadline() const;  // earliest timed action
  void container_changed();  // a container started or exited: the next relist syncs the pod
  std::chrono::steady_clock::time_point next_relist() const;
  void apply(Control& control);
  void start_due_containers();
  std::vector<Container*> all_containers() const;  // init containers first, in spec order
  void start_container(Container& c);
  void reap_containers();
  void on_exit(Container& c, int exit_code, const std::string& reason, const std::string& message);
  void schedule_restart(Container& c);
  void run_probes();
  ProbeOutcome run_probe(Container& c, const Json& probe);
  void kill_container(Container& c, std::chrono::milliseconds grace, const std::string& why);
  void enforce_kill_deadlines();
  bool step_termination();  // true when every process is gone
  void kill_everything();
  void stop_burners(Container& c);
  void start_burners(Container& c);
  void publish();
  Json build_status();
  void event(const std::string& type, const std::string& reason, const std::string& message);
  std::filesystem::path volume_dir(const Json& volume_mount, std::string& error);
  void add_service_account(Container& c);
  std::filesystem::path pod_dir() const { return pod_dir_; }
  void cleanup();
  void refresh_snapshot();

  const NodeContext& ctx_;
  // Constant after construction.
  const std::string uid_, ns_, name_, pod_ip_;
  std::filesystem::path pod_dir_;
  std::function<void(const std::string&)> on_done_;

  // Owned by the worker thread.
  Json pod_;
  std::vector<std::unique_ptr<Container>> init_containers_;  // spec.initContainers
  std::vector<std::unique_ptr<Container>> containers_;       // spec.containers
  bool initialized_ = false;  // every init container has completed (in this sandbox)
  std::optional<std::chrono::steady_clock::time_point> sync_at_;  // the relist that syncs the pod
  bool sync_now_ = false;     // a probe result changed: sync at once
  // After an init container exits, the next container (the next init container, the same one
  // again, or the app containers) starts at the relist that sees the exit.
  std::chrono::steady_clock::time_point init_step_at_{};
  Json last_status_;
  std::map<std::string, std::pair<std::string, std::string>> condition_times_;  // type → status, time
  std::string start_time_;
  bool terminating_ = false;
  bool deleting_ = false;  // remove the object once terminated
  std::chrono::steady_clock::time_point terminate_deadline_{};
  bool cpu_limit_unenforced_ = false;
  bool gone_ = false;  // object no longer in the store (or replaced)

  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable wake_;
  std::optional<Json> pending_pod_;
  bool removed_ = false;
  std::optional<std::chrono::milliseconds> shutdown_grace_;
  std::vector<std::vector<std::string>> kill_requests_;
  std::optional<std::pair<bool, std::string>> failure_request_;
  std::map<std::string, std::pair<int, int>> stress_requests_;  // container ("" first) → workers, load
  std::map<std::string, std::filesystem::path> logs_;           // container → log file
  std::vector<UsageTarget> usage_snapshot_;

  std::thread thread_;
};

}  // namespace mambogo::sim

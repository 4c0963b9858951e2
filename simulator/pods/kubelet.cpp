#include "pods/kubelet.h"

#include "objects/names.h"
#include "pods/cgroups.h"
#include "pods/pod_worker.h"
#include "pods/process.h"
#include "store/events.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mambogo::sim {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::uint64_t meminfo_kb(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  std::uint64_t kb;
  std::string unit;
  while (in >> name >> kb) {
    std::getline(in, unit);
    if (name == key + ":") return kb;
  }
  return 0;
}

std::string os_image() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  return "Linux";
}

// Busy CPU time of the whole machine (/proc/stat), in ns.
std::uint64_t machine_busy_ns() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  return (user + nice + system + irq + softirq + steal) * (1'000'000'000ULL / static_cast<std::uint64_t>(ticks));
}

bool ip_in_pod_range(const std::string& ip, const std::string& network) {
  if (ip.rfind(network, 0) != 0) return false;
  const int last = std::atoi(ip.c_str() + network.size());
  return last >= 2 && last <= 254 && ip == network + std::to_string(last);
}

}  // namespace

Kubelet::Kubelet(Store& store, KubeletOptions options) : store_(store), options_(std::move(options)) {
  if (options_.state_dir.empty()) throw std::runtime_error("kubelet: state_dir is required");
  std::error_code ec;
  fs::create_directories(options_.state_dir / "pods", ec);
  fs::create_directories(options_.state_dir / "volumes", ec);
  if (ec) throw std::runtime_error("kubelet: cannot create " + options_.state_dir.string() + ": " + ec.message());
  if (options_.cpu_capacity_cores <= 0) options_.cpu_capacity_cores = std::max(1u, std::thread::hardware_concurrency());
  if (options_.memory_capacity_bytes == 0) options_.memory_capacity_bytes = meminfo_kb("MemTotal") * 1024;
  if (options_.use_cgroups) {
    cgroups_ = CpuCgroups::open(options_.cgroup_root, options_.cgroup_parent, cgroups_reason_);
  } else {
    cgroups_reason_ = "cgroups disabled by configuration";
  }
  const char* path = std::getenv("PATH");
  const char* home = std::getenv("HOME");
  context_.reset(new NodeContext{store_, options_, cgroups_.get(), kNodeName, options_.cpu_capacity_cores,
                                 options_.memory_capacity_bytes,
                                 path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                 home ? home : "/root"});
}

Kubelet::~Kubelet() { stop(); }

void Kubelet::start() {
  {
    std::lock_guard lock(mutex_);
    if (running_ || stopping_) return;
    running_ = true;
  }
  if (cgroups_) {
    std::set<std::string> ours;
    for (const auto& pod : store_.list("pods").items) ours.insert(str(metadata_of(pod), "uid"));
    cgroups_->remove_stale(ours);
  }
  register_node(true);
  watch_id_ = store_.watch("pods", "", 0, [this](const WatchEvent& e) {
    std::lock_guard lock(mutex_);
    events_.push_back({e.type, e.object});
    wake_.notify_all();
  });
  resync();
  thread_ = std::thread([this] { loop(); });
  usage_thread_ = std::thread([this] { usage_loop(); });
}

void Kubelet::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_) return;
    stopping_ = true;
    wake_.notify_all();
  }
  store_.unwatch(watch_id_);
  if (thread_.joinable()) thread_.join();
  if (usage_thread_.joinable()) usage_thread_.join();
  std::map<std::string, std::unique_ptr<PodWorker>> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& [uid, worker] : workers) worker->shutdown(options_.stop_grace_max);
  workers.clear();  // joins: every pod has terminated
  if (cgroups_) cgroups_->remove_parent_if_empty();
  register_node(false);
}

std::string Kubelet::node_name() const { return kNodeName; }

double Kubelet::cpu_capacity_cores() const { return options_.cpu_capacity_cores; }

std::uint64_t Kubelet::memory_capacity_bytes() const { return options_.memory_capacity_bytes; }

bool Kubelet::cpu_limits_enforced() const { return cgroups_ != nullptr; }

std::string Kubelet::cpu_limits_reason() const { return cgroups_reason_; }

void Kubelet::loop() {
  auto next_sync = Clock::now() + options_.sync_period;
  auto next_heartbeat = Clock::now() + options_.node_status_period;
  while (true) {
    std::deque<Event> events;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, std::min(next_sync, next_heartbeat),
                       [&] { return stopping_ || !events_.empty() || !finished_.empty(); });
      if (stopping_) return;
      events.swap(events_);
    }
    for (const auto& e : events) handle(e);
    reap_finished();
    if (Clock::now() >= next_sync) {
      resync();
      next_sync = Clock::now() + options_.sync_period;
    }
    if (Clock::now() >= next_heartbeat) {
      register_node(true);
      next_heartbeat = Clock::now() + options_.node_status_period;
    }
  }
}

void Kubelet::handle(const Event& event) {
  const Json& pod = event.pod;
  const std::string uid = str(metadata_of(pod), "uid");
  if (event.type == EventType::deleted) {
    std::lock_guard lock(mutex_);
    if (auto it = workers_.find(uid); it != workers_.end()) it->second->removed();
    return;
  }
  const Json spec = pod.value("spec", Json::object());
  const std::string node = str(spec, "nodeName");
  const bool deleting = metadata_of(pod).contains("deletionTimestamp");
  const ObjectRef ref = ref_of("pods", pod);
  if (node.empty()) {
    if (deleting) return;
    bool bound = false;
    try {
      store_.mutate(ref, [&](Json& p) {
        if (str(metadata_of(p), "uid") != uid || !str(p.value("spec", Json::object()), "nodeName").empty()) return;
        p["spec"]["nodeName"] = kNodeName;
        Json& conditions = p["status"]["conditions"];
        if (!conditions.is_array()) conditions = Json::array();
        conditions.push_back({{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                              {"lastTransitionTime", now_rfc3339()}});
        if (!p["status"].contains("phase")) p["status"]["phase"] = "Pending";
        bound = true;
      });
    } catch (const StoreError&) {
      return;  // gone meanwhile
    }
    if (bound && options_.record_events) {
      Json involved = pod;
      involved.erase("status");
      try {
        record_event(store_, "pods", involved, "Normal", "Scheduled",
                     "Successfully assigned " + ref.ns + "/" + ref.name + " to " + kNodeName, "default-scheduler");
      } catch (const std::exception&) {
      }
    }
    return;
  }
  if (node != kNodeName) return;
  {
    std::lock_guard lock(mutex_);
    if (auto it = workers_.find(uid); it != workers_.end()) {
      it->second->update(pod);
      return;
    }
    if (done_uids_.contains(uid) || stopping_) return;
  }
  if (deleting) {
    // Nothing of it runs here (a restarted node, or a pod that never started): remove now.
    try {
      store_.remove(ref, uid);
    } catch (const StoreError&) {
    }
    return;
  }
  const std::string phase = str(pod.value("status", Json::object()), "phase");
  if (phase == "Succeeded" || phase == "Failed") return;
  start_worker(pod);
}

std::string Kubelet::allocate_ip(const Json& pod) {
  const std::string previous = str(pod.value("status", Json::object()), "podIP");
  if (ip_in_pod_range(previous, options_.pod_network) && !used_ips_.contains(previous)) return previous;
  for (int n = 2; n <= 254; ++n) {
    const std::string ip = options_.pod_network + std::to_string(n);
    if (!used_ips_.contains(ip)) return ip;
  }
  return {};
}

void Kubelet::start_worker(const Json& pod) {
  std::lock_guard lock(mutex_);
  const std::string ip = allocate_ip(pod);
  if (ip.empty()) return;  // 253 pods: the next resync tries again
  used_ips_.insert(ip);
  auto worker = std::make_unique<PodWorker>(*context_, pod, ip, [this](const std::string& uid) {
    std::lock_guard lock(mutex_);
    finished_.push_back(uid);
    wake_.notify_all();
  });
  workers_[worker->uid()] = std::move(worker);
}

void Kubelet::reap_finished() {
  std::vector<std::unique_ptr<PodWorker>> done;
  {
    std::lock_guard lock(mutex_);
    for (const auto& uid : finished_) {
      auto it = workers_.find(uid);
      if (it == workers_.end()) continue;
      used_ips_.erase(it->second->pod_ip());
      usage_.erase(it->second->ns() + "/" + it->second->name());
      done_uids_.insert(uid);
      done.push_back(std::move(it->second));
      workers_.erase(it);
    }
    finished_.clear();
  }
  done.clear();  // joins outside the lock: a finishing worker may still be writing to the store
}

void Kubelet::resync() {
  const auto pods = store_.list("pods").items;
  std::set<std::string> present;
  for (const auto& pod : pods) {
    present.insert(str(metadata_of(pod), "uid"));
    handle({EventType::modified, pod});
  }
  std::lock_guard lock(mutex_);
  for (auto& [uid, worker] : workers_)
    if (!present.contains(uid)) worker->removed();
}

void Kubelet::register_node(bool ready) {
  const std::string now = now_rfc3339();
  utsname un{};
  ::uname(&un);
  const std::string cpu = std::to_string(static_cast<long>(std::ceil(options_.cpu_capacity_cores)));
  const std::string memory = std::to_string(options_.memory_capacity_bytes / 1024) + "Ki";
  const Json resources = {{"cpu", cpu}, {"memory", memory}, {"pods", "253"}, {"ephemeral-storage", "0"}};
  auto condition = [&](const std::string& type, const std::string& status, const std::string& reason,
                       const std::string& message) {
    return Json{{"type", type}, {"status", status}, {"reason", reason}, {"message", message},
                {"lastHeartbeatTime", now}, {"lastTransitionTime", now}};
  };
  Json status = {
      {"capacity", resources},
      {"allocatable", resources},
      {"conditions",
       Json::array({condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    ready ? condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")
                          : condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")})},
      {"addresses", Json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                                 {{"type", "Hostname"}, {"address", kNodeName}}})},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
      {"nodeInfo",
       {{"machineID", first_line("/etc/machine-id")},
        {"systemUUID", first_line("/etc/machine-id")},
        {"bootID", first_line("/proc/sys/kernel/random/boot_id")},
        {"kernelVersion", un.release},
        {"osImage", os_image()},
        {"containerRuntimeVersion", "mambogo://0.1.0"},
        {"kubeletVersion", "v1.28.0-mambogo"},
        {"kubeProxyVersion", "v1.28.0-mambogo"},
        {"operatingSystem", "linux"},
        {"architecture", std::string(un.machine) == "x86_64" ? "amd64" : std::string(un.machine) == "aarch64" ? "arm64" : un.machine}}}};
  const Json labels = {{"kubernetes.io/hostname", kNodeName},
                       {"kubernetes.io/os", "linux"},
                       {"kubernetes.io/arch", status["nodeInfo"]["architecture"]},
                       {"node-role.kubernetes.io/control-plane", ""}};
  const ObjectRef ref{"nodes", "", kNodeName};
  try {
    store_.mutate(ref, [&](Json& node) {
      // Keep the transition times of conditions whose status did not change.
      for (auto& c : status["conditions"])
        for (const auto& old : node["status"].value("conditions", Json::array()))
          if (old.value("type", "") == c["type"] && old.value("status", "") == c["status"])
            c["lastTransitionTime"] = old.value("lastTransitionTime", now);
      node["status"] = status;
      for (auto it = labels.begin(); it != labels.end(); ++it) node["metadata"]["labels"][it.key()] = it.value();
    });
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::not_found) return;
    try {
      store_.create("nodes", {{"apiVersion", "v1"},
                              {"kind", "Node"},
                              {"metadata", {{"name", kNodeName}, {"labels", labels}}},
                              {"spec", {{"podCIDR", options_.pod_network + "0/24"},
                                        {"podCIDRs", Json::array({options_.pod_network + "0/24"})}}},
                              {"status", status}});
    } catch (const StoreError&) {
      // Created concurrently: the next heartbeat updates it.
    }
  }
}

PodWorker* Kubelet::find_worker(const std::string& ns, const std::string& pod) const {
  for (const auto& [uid, worker] : workers_)
    if (worker->ns() == ns && worker->name() == pod) return worker.get();
  return nullptr;
}

std::optional<fs::path> Kubelet::log_file(const std::string& ns, const std::string& pod,
                                          const std::string& container, bool previous) const {
  std::lock_guard lock(mutex_);
  if (PodWorker* w = find_worker(ns, pod)) return w->log_file(container, previous);
  return std::nullopt;
}

bool Kubelet::kill_containers(const std::string& ns, const std::string& pod, const std::vector<std::string>& containers) {
  std::lock_guard lock(mutex_);
  PodWorker* w = find_worker(ns, pod);
  return w && w->kill_containers(containers);
}

bool Kubelet::set_pod_failure(const std::string& ns, const std::string& pod, bool failing, const std::string& message) {
  std::lock_guard lock(mutex_);
  PodWorker* w = find_worker(ns, pod);
  if (w) w->set_failure(failing, message);
  return w != nullptr;
}

bool Kubelet::set_cpu_stress(const std::string& ns, const std::string& pod, const std::string& container, int workers,
                             int load_percent) {
  std::lock_guard lock(mutex_);
  PodWorker* w = find_worker(ns, pod);
  return w && w->set_stress(container, workers, load_percent);
}

void Kubelet::usage_loop() {
  while (true) {
    sample_usage();
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, options_.usage_period, [&] { return stopping_; })) return;
  }
}

void Kubelet::sample_usage() {
  struct PodTargets {
    std::string key;
    std::vector<PodWorker::UsageTarget> targets;
  };
  std::vector<PodTargets> pods;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [uid, w] : workers_) pods.push_back({w->ns() + "/" + w->name(), w->usage_targets()});
  }
  bool need_proc = false;
  for (const auto& p : pods)
    for (const auto& t : p.targets) need_proc |= !t.cgroup || t.cgroup->usage_file.empty();
  std::map<pid_t, std::vector<ProcSample>> by_group;
  if (need_proc)
    for (const auto& s : scan_proc()) by_group[s.pgrp].push_back(s);

  const auto now = Clock::now();
  struct Measured {
    std::string key, container;
    pid_t pid;
    std::uint64_t cpu_ns, memory;
  };
  std::vector<Measured> measured;
  for (const auto& p : pods) {
    for (const auto& t : p.targets) {
      std::uint64_t cpu = 0, memory = 0;
      std::optional<std::uint64_t> cg_cpu;
      if (t.cgroup) cg_cpu = CpuCgroups::usage_ns(*t.cgroup);
      if (cg_cpu) {
        cpu = *cg_cpu;
        for (pid_t pid : CpuCgroups::pids(*t.cgroup)) {
          if (std::find(t.extra.begin(), t.extra.end(), pid) != t.extra.end()) continue;
          if (auto s = read_proc(pid)) memory += s->rss_bytes;
        }
      } else {
        if (auto it = by_group.find(t.pid); it != by_group.end())
          for (const auto& s : it->second) cpu += s.cpu_ns, memory += s.rss_bytes;
        for (pid_t pid : t.extra)
          if (auto s = read_proc(pid)) cpu += s->cpu_ns;
      }
      measured.push_back({p.key, t.container, t.pid, cpu, memory});
    }
  }
  const std::uint64_t node_busy = machine_busy_ns();
  const std::uint64_t node_memory =
      (meminfo_kb("MemTotal") - std::min(meminfo_kb("MemTotal"), meminfo_kb("MemAvailable"))) * 1024;

  std::lock_guard lock(mutex_);
  auto push = [&](std::deque<Sample>& samples, std::uint64_t cpu) {
    samples.push_back({now, cpu});
    while (samples.size() > 2 && samples[1].at <= now - options_.usage_window) samples.pop_front();
  };
  std::map<std::string, std::map<std::string, UsageSeries>> next;
  for (const auto& m : measured) {
    UsageSeries series;
    if (auto pod = usage_.find(m.key); pod != usage_.end())
      if (auto c = pod->second.find(m.container); c != pod->second.end() && c->second.pid == m.pid)
        series = std::move(c->second);
    series.pid = m.pid;
    series.memory_bytes = m.memory;
    push(series.samples, m.cpu_ns);
    next[m.key][m.container] = std::move(series);
  }
  usage_.swap(next);
  push(node_cpu_, node_busy);
  node_memory_ = node_memory;
}

std::optional<PodUsage> Kubelet::pod_usage(const std::string& ns, const std::string& pod) const {
  std::lock_guard lock(mutex_);
  auto it = usage_.find(ns + "/" + pod);
  if (it == usage_.end()) return std::nullopt;
  PodUsage usage;
  for (const auto& [name, series] : it->second) {
    if (series.samples.size() < 2) continue;
    const auto& first = series.samples.front();
    const auto& last = series.samples.back();
    const double seconds = std::chrono::duration<double>(last.at - first.at).count();
    if (seconds <= 0) continue;
    const double delta = last.cpu_ns > first.cpu_ns ? static_cast<double>(last.cpu_ns - first.cpu_ns) : 0.0;
    usage.containers.push_back({name, static_cast<std::uint64_t>(delta / seconds), series.memory_bytes});
    usage.window_seconds = std::max(usage.window_seconds, seconds);
  }
  if (usage.containers.empty()) return std::nullopt;
  usage.timestamp = now_rfc3339();
  return usage;
}

NodeUsage Kubelet::node_usage() const {
  std::lock_guard lock(mutex_);
  NodeUsage usage;
  usage.timestamp = now_rfc3339();
  usage.memory_bytes = node_memory_;
  if (node_cpu_.size() >= 2) {
    const double seconds = std::chrono::duration<double>(node_cpu_.back().at - node_cpu_.front().at).count();
    if (seconds > 0 && node_cpu_.back().cpu_ns > node_cpu_.front().cpu_ns) {
      usage.cpu_nanocores = static_cast<std::uint64_t>(
          static_cast<double>(node_cpu_.back().cpu_ns - node_cpu_.front().cpu_ns) / seconds);
      usage.window_seconds = seconds;
    }
  }
  return usage;
}

}  // namespace mambogo::sim
